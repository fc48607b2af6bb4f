import unittest

import stats


class HiddenTests(unittest.TestCase):
    def test_odd(self):
        self.assertEqual(stats.median([5, 1, 3]), 3)

    def test_even(self):
        self.assertEqual(stats.median([4, 1, 3, 2]), 2.5)
