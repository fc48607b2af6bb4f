import unittest

import slug


class VisibleTests(unittest.TestCase):
    def test_words(self):
        self.assertEqual(slug.words_of("Hi there"), ["hi", "there"])
