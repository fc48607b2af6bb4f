import re


def words_of(text):
    """The lower-case words of a text."""
    return re.findall(r"[a-z0-9]+", text.lower())


# >>> target
def slugify(text):
    """A URL slug: lower case, runs of other characters turned into one "-", none at the ends."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
# <<< target
