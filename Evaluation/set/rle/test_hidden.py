import unittest

import rle


class HiddenTests(unittest.TestCase):
    def test_encode(self):
        self.assertEqual(rle.encode("aaabcc"), [("a", 3), ("b", 1), ("c", 2)])
        self.assertEqual(rle.encode(""), [])
