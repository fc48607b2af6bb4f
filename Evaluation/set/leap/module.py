def days_in_year(year):
    """365 or 366."""
    return 366 if is_leap(year) else 365


# >>> target
def is_leap(year):
    """True for Gregorian leap years."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
# <<< target
