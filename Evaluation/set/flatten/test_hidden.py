import unittest

import flatten


class HiddenTests(unittest.TestCase):
    def test_nested(self):
        self.assertEqual(flatten.flatten([1, [2, [3, 4]], 5]), [1, 2, 3, 4, 5])
