def first(xs, default=None):
    """The first element, or default for an empty list."""
    return xs[0] if xs else default


# >>> target
def chunk(xs, n):
    """xs cut into consecutive lists of n elements (the last may be shorter)."""
    return [xs[i : i + n] for i in range(0, len(xs), n)]
# <<< target
