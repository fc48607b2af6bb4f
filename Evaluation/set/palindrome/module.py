def reverse(text):
    """The text backwards."""
    return text[::-1]


# >>> target
def is_palindrome(text):
    """True when the letters and digits of text read the same both ways, ignoring case."""
    cleaned = [c.lower() for c in text if c.isalnum()]
    return cleaned == cleaned[::-1]
# <<< target
