import unittest

import chunks


class VisibleTests(unittest.TestCase):
    def test_first(self):
        self.assertEqual(chunks.first([7, 8]), 7)
        self.assertIsNone(chunks.first([]))
