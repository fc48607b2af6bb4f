import unittest

import gcd


class HiddenTests(unittest.TestCase):
    def test_gcd(self):
        self.assertEqual(gcd.gcd(12, 18), 6)
        self.assertEqual(gcd.gcd(7, 5), 1)
