def is_sorted(xs):
    """True when xs is in ascending order."""
    return all(a <= b for a, b in zip(xs, xs[1:]))


# >>> target
def find(xs, target):
    """The index of target in the sorted list xs, or -1."""
    lo, hi = 0, len(xs) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if xs[mid] == target:
            return mid
        if xs[mid] < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1
# <<< target
