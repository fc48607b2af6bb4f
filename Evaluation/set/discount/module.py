def with_tax(price, rate):
    """The price with a tax rate in percent, rounded to cents."""
    return round(price * (100 + rate) / 100, 2)


# >>> target
def price_after(price, percent):
    """The price after a discount of `percent` percent, rounded to cents."""
    return round(price * (100 - percent) / 100, 2)
# <<< target
