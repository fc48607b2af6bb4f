import unittest

import binsearch


class HiddenTests(unittest.TestCase):
    def test_found(self):
        xs = [1, 3, 5, 7, 9]
        for i, x in enumerate(xs):
            self.assertEqual(binsearch.find(xs, x), i)

    def test_missing(self):
        self.assertEqual(binsearch.find([1, 3], 2), -1)
