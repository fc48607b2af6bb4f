import unittest

import wordcount


class VisibleTests(unittest.TestCase):
    def test_words(self):
        self.assertEqual(wordcount.words("a  b"), ["a", "b"])
