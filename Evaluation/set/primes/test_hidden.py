import unittest

import primes


class HiddenTests(unittest.TestCase):
    def test_small(self):
        self.assertFalse(primes.is_prime(1))
        self.assertTrue(primes.is_prime(2))
        self.assertFalse(primes.is_prime(25))
        self.assertTrue(primes.is_prime(29))
