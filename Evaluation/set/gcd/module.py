def lcm(a, b):
    """The least common multiple of two positive integers."""
    return a * b // gcd(a, b)


# >>> target
def gcd(a, b):
    """The greatest common divisor (Euclid)."""
    while b:
        a, b = b, a % b
    return a
# <<< target
