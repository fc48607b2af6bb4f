import unittest

import gcd


class VisibleTests(unittest.TestCase):
    def test_lcm(self):
        self.assertEqual(gcd.lcm(4, 6), 12)
