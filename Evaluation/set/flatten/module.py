def depth(xs):
    """How deeply lists are nested in xs (a flat list has depth 1)."""
    return 1 + max((depth(x) for x in xs if isinstance(x, list)), default=0)


# >>> target
def flatten(xs):
    """All non-list items of nested lists, in order."""
    out = []
    for x in xs:
        if isinstance(x, list):
            out.extend(flatten(x))
        else:
            out.append(x)
    return out
# <<< target
