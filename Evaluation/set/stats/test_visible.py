import unittest

import stats


class VisibleTests(unittest.TestCase):
    def test_mean(self):
        self.assertEqual(stats.mean([1, 2, 3, 6]), 3)
