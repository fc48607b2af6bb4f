import unittest

import palindrome


class HiddenTests(unittest.TestCase):
    def test_phrase(self):
        self.assertTrue(palindrome.is_palindrome("A man, a plan, a canal: Panama"))

    def test_not(self):
        self.assertFalse(palindrome.is_palindrome("abca"))
