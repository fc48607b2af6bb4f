def primes_below(n):
    """The primes smaller than n."""
    return [k for k in range(2, n) if is_prime(k)]


# >>> target
def is_prime(n):
    """True for prime numbers."""
    if n < 2:
        return False
    for d in range(2, int(n ** 0.5) + 1):
        if n % d == 0:
            return False
    return True
# <<< target
