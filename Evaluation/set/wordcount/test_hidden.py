import unittest

import wordcount


class HiddenTests(unittest.TestCase):
    def test_spaces_and_lines(self):
        self.assertEqual(wordcount.count_words("a  b\na"), {"a": 2, "b": 1})
