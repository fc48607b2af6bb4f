import unittest

import temperature


class HiddenTests(unittest.TestCase):
    def test_points(self):
        self.assertEqual(temperature.c_to_f(100), 212)
        self.assertEqual(temperature.c_to_f(0), 32)
