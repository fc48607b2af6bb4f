import unittest

import bank


class VisibleTests(unittest.TestCase):
    def test_deposit(self):
        account = bank.Account(5)
        account.deposit(3)
        self.assertEqual(account.balance, 8)
