import unittest

import temperature


class VisibleTests(unittest.TestCase):
    def test_f_to_c(self):
        self.assertEqual(temperature.f_to_c(212), 100)
