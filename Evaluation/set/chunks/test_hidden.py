import unittest

import chunks


class HiddenTests(unittest.TestCase):
    def test_even(self):
        self.assertEqual(chunks.chunk([1, 2, 3, 4], 2), [[1, 2], [3, 4]])

    def test_remainder(self):
        self.assertEqual(chunks.chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]])
