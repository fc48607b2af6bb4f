import unittest

import truncate


class HiddenTests(unittest.TestCase):
    def test_fits_exactly(self):
        self.assertEqual(truncate.truncate("hello", 5), "hello")

    def test_cut(self):
        self.assertEqual(truncate.truncate("hello world", 8), "hello...")
