def f_to_c(f):
    """Degrees Fahrenheit to Celsius."""
    return (f - 32) * 5 / 9


# >>> target
def c_to_f(c):
    """Degrees Celsius to Fahrenheit."""
    return c * 9 / 5 + 32
# <<< target
