import unittest

import discount


class VisibleTests(unittest.TestCase):
    def test_tax(self):
        self.assertEqual(discount.with_tax(100, 20), 120)
