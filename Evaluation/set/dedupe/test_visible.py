import unittest

import dedupe


class VisibleTests(unittest.TestCase):
    def test_count(self):
        self.assertEqual(dedupe.count_unique([1, 1, 2]), 2)
