import unittest

import truncate


class VisibleTests(unittest.TestCase):
    def test_shout(self):
        self.assertEqual(truncate.shout("hi"), "HI!")
