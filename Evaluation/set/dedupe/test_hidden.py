import unittest

import dedupe


class HiddenTests(unittest.TestCase):
    def test_order(self):
        self.assertEqual(dedupe.dedupe([3, 1, 3, 2, 1]), [3, 1, 2])
