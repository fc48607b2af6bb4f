def sign(x):
    """-1, 0 or 1."""
    return (x > 0) - (x < 0)


# >>> target
def clamp(x, lo, hi):
    """x limited to the range lo..hi."""
    return max(lo, min(x, hi))
# <<< target
