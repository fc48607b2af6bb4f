def shout(text):
    """The text in capitals with an exclamation mark."""
    return text.upper() + "!"


# >>> target
def truncate(text, width):
    """The text cut to at most `width` characters, ending in "..." when it was cut."""
    if len(text) <= width:
        return text
    return text[: width - 3] + "..."
# <<< target
