class Account:
    """A bank account that never goes below zero."""

    def __init__(self, balance=0):
        self.balance = balance

    def deposit(self, amount):
        self.balance += amount

# >>> target
    def withdraw(self, amount):
        """Takes amount out; a withdrawal larger than the balance raises ValueError."""
        if amount > self.balance:
            raise ValueError("insufficient funds")
        self.balance -= amount
# <<< target
