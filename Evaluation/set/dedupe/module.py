def count_unique(xs):
    """How many distinct items xs holds."""
    return len(set(xs))


# >>> target
def dedupe(xs):
    """xs without repeated items, keeping the first occurrence of each."""
    seen = set()
    out = []
    for x in xs:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out
# <<< target
