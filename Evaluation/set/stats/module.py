def mean(values):
    """The arithmetic mean of a non-empty list."""
    return sum(values) / len(values)


# >>> target
def median(values):
    """The middle value of a non-empty list (the mean of the two middle values when the length is even)."""
    s = sorted(values)
    mid = len(s) // 2
    if len(s) % 2 == 1:
        return s[mid]
    return (s[mid - 1] + s[mid]) / 2
# <<< target
