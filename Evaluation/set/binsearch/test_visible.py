import unittest

import binsearch


class VisibleTests(unittest.TestCase):
    def test_sorted(self):
        self.assertTrue(binsearch.is_sorted([1, 2, 2, 5]))
