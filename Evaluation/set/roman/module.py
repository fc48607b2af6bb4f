def is_roman_digit(ch):
    """True for the seven Roman numeral letters."""
    return ch in "IVXLCDM"


# >>> target
def to_roman(number):
    """The Roman numeral of 1 <= number <= 3999."""
    table = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
             (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for value, letters in table:
        while number >= value:
            out += letters
            number -= value
    return out
# <<< target
