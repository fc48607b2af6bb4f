import unittest

import roman


class HiddenTests(unittest.TestCase):
    def test_values(self):
        self.assertEqual(roman.to_roman(1994), "MCMXCIV")
        self.assertEqual(roman.to_roman(49), "XLIX")
        self.assertEqual(roman.to_roman(3), "III")
