import unittest

import flatten


class VisibleTests(unittest.TestCase):
    def test_depth(self):
        self.assertEqual(flatten.depth([1, [2, [3]]]), 3)
