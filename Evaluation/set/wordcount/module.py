def words(text):
    """The words of a text, split on any whitespace."""
    return text.split()


# >>> target
def count_words(text):
    """How often each whitespace-separated word occurs."""
    counts = {}
    for word in text.split():
        counts[word] = counts.get(word, 0) + 1
    return counts
# <<< target
