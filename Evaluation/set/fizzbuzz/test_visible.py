import unittest

import fizzbuzz


class VisibleTests(unittest.TestCase):
    def test_multiple(self):
        self.assertTrue(fizzbuzz.is_multiple(9, 3))
