"""`{{ amount|money:currency }}`: an amount as `core.money.format_money` writes it."""

from django import template

from fieldservice.core.money import DEFAULT_CURRENCY, format_money

register = template.Library()


@register.filter
def money(value, currency=DEFAULT_CURRENCY):
    return format_money(value, currency or DEFAULT_CURRENCY)
