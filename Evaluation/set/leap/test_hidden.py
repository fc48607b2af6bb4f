import unittest

import leap


class HiddenTests(unittest.TestCase):
    def test_rules(self):
        self.assertTrue(leap.is_leap(2024))
        self.assertFalse(leap.is_leap(1900))
        self.assertTrue(leap.is_leap(2000))
        self.assertFalse(leap.is_leap(2023))
