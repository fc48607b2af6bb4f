import unittest

import fizzbuzz


class HiddenTests(unittest.TestCase):
    def test_values(self):
        self.assertEqual([fizzbuzz.fizzbuzz(i) for i in (3, 5, 15, 7)], ["Fizz", "Buzz", "FizzBuzz", "7"])
