import unittest

import intervals


class HiddenTests(unittest.TestCase):
    def test_disjoint(self):
        self.assertFalse(intervals.overlaps((0, 2), (5, 9)))

    def test_touching(self):
        self.assertFalse(intervals.overlaps((0, 5), (5, 9)))

    def test_overlap(self):
        self.assertTrue(intervals.overlaps((0, 6), (5, 9)))
