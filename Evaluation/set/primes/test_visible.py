import unittest

import primes


class VisibleTests(unittest.TestCase):
    def test_below(self):
        self.assertEqual(primes.primes_below(3), [2])
