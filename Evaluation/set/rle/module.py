def decode(pairs):
    """Text from (character, count) pairs."""
    return "".join(ch * n for ch, n in pairs)


# >>> target
def encode(text):
    """Run-length encoding: a list of (character, count) pairs."""
    pairs = []
    for ch in text:
        if pairs and pairs[-1][0] == ch:
            pairs[-1] = (ch, pairs[-1][1] + 1)
        else:
            pairs.append((ch, 1))
    return pairs
# <<< target
