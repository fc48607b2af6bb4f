import unittest

import clamp


class VisibleTests(unittest.TestCase):
    def test_sign(self):
        self.assertEqual(clamp.sign(-4), -1)
        self.assertEqual(clamp.sign(0), 0)
