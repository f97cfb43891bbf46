"""`{{ value|qty }}`: a stock quantity as people write it (10, 2.5), never 1E+1 or 2.500."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def qty(value):
    if value is None or value == "":
        return ""
    if not isinstance(value, Decimal):
        try:
            value = Decimal(str(value))
        except ArithmeticError:
            return value
    return format(value.normalize(), "f")
