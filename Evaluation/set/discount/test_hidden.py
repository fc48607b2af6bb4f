import unittest

import discount


class HiddenTests(unittest.TestCase):
    def test_discount(self):
        self.assertEqual(discount.price_after(80, 25), 60)
        self.assertEqual(discount.price_after(10, 0), 10)
