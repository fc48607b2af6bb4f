import unittest

import leap


class VisibleTests(unittest.TestCase):
    def test_days(self):
        self.assertEqual(leap.days_in_year(2023), 365)
