import unittest

import roman


class VisibleTests(unittest.TestCase):
    def test_digit(self):
        self.assertTrue(roman.is_roman_digit("X"))
        self.assertFalse(roman.is_roman_digit("A"))
