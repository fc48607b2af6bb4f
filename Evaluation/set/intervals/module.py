def length(interval):
    """The length of a half-open interval (start, end)."""
    return interval[1] - interval[0]


# >>> target
def overlaps(a, b):
    """True when the half-open intervals a and b share at least one point."""
    return a[0] < b[1] and b[0] < a[1]
# <<< target
