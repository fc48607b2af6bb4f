import unittest

import palindrome


class VisibleTests(unittest.TestCase):
    def test_reverse(self):
        self.assertEqual(palindrome.reverse("abc"), "cba")
