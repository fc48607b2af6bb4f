import unittest

import rle


class VisibleTests(unittest.TestCase):
    def test_decode(self):
        self.assertEqual(rle.decode([("a", 2), ("b", 1)]), "aab")
