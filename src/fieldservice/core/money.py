"""Money: amounts are `Decimal` with two places and a three-letter currency (CNY by default).

One parser for every amount typed by a person or a client (`parse_money`), one for currencies,
and one formatter (`format_money`, the `money` template filter) so an amount reads the same on
every page, in the PDFs and in the exports' labels.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

from fieldservice.core.errors import field_error

DEFAULT_CURRENCY = "CNY"
CENT = Decimal("0.01")
# Ten digits before the point: the largest amount a money column (max_digits=12) holds.
MONEY_MAX = Decimal("9999999999.99")
SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}


def cents(value: Decimal) -> Decimal:
    """Rounded to the cent, half up, as an invoice rounds."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_money(value, field: str, *, required: bool = False, allow_zero: bool = True) -> Decimal | None:
    """An amount of money from a form or a client: at most two decimals, not negative, not absurd.
    Empty is None (or a "required" error naming the field)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise field_error(field, _("This field is required."), "required")
        return None
    if isinstance(value, bool):
        raise field_error(field, _("Enter an amount such as 1200.00."), "invalid")
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise field_error(field, _("Enter an amount such as 1200.00."), "invalid") from None
    if not amount.is_finite():
        raise field_error(field, _("Enter an amount such as 1200.00."), "invalid")
    if amount < 0:
        raise field_error(field, _("The amount cannot be negative."), "negative")
    if amount == 0 and not allow_zero:
        raise field_error(field, _("The amount must be more than zero."), "not_positive")
    if amount > MONEY_MAX or amount != amount.quantize(CENT):
        raise field_error(field, _("At most 10 digits before and 2 after the decimal point."), "invalid")
    return amount


def parse_currency(value, field: str = "currency") -> str:
    code = (value or "").strip().upper() if isinstance(value, str) else ""
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise field_error(field, _("Enter a three-letter currency code such as CNY."), "invalid")
    return code


def format_money(amount, currency: str = DEFAULT_CURRENCY) -> str:
    """¥1,234.50 in both languages; a currency without a symbol is written after the number
    (1,234.50 CHF)."""
    if amount is None or amount == "":
        return ""
    value = Decimal(str(amount))
    # Grouped by thousands in every language: an invoice in China writes ¥12,345.60 too, while
    # Django's Chinese number format does not group at all.
    text = f"{cents(abs(value)):,.2f}"
    sign = "−" if value < 0 else ""
    symbol = SYMBOLS.get((currency or DEFAULT_CURRENCY).upper())
    if symbol:
        return f"{sign}{symbol}{text}"
    return f"{sign}{text} {currency}"
