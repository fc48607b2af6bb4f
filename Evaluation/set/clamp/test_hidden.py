import unittest

import clamp


class HiddenTests(unittest.TestCase):
    def test_inside(self):
        self.assertEqual(clamp.clamp(5, 0, 10), 5)

    def test_below_and_above(self):
        self.assertEqual(clamp.clamp(-3, 0, 10), 0)
        self.assertEqual(clamp.clamp(42, 0, 10), 10)
