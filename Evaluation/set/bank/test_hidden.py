import unittest

import bank


class HiddenTests(unittest.TestCase):
    def test_whole_balance(self):
        account = bank.Account(10)
        account.withdraw(10)
        self.assertEqual(account.balance, 0)

    def test_too_much(self):
        account = bank.Account(10)
        with self.assertRaises(ValueError):
            account.withdraw(11)
