import unittest

import intervals


class VisibleTests(unittest.TestCase):
    def test_length(self):
        self.assertEqual(intervals.length((2, 7)), 5)
