"""Field checks (and the permission check) shared by the contract and price-list services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.contracts.permissions import may_manage_contracts
from fieldservice.core.errors import field_error, require

FEE_MAX = Decimal("9999999999.99")


def require_manage(actor: User) -> None:
    require(may_manage_contracts(actor))


def parse_date(value, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise field_error(field, _("Enter a date (YYYY-MM-DD)."), "invalid_date" if value else "required")


def parse_money(value, field: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise field_error(field, _("Enter an amount such as 1200.00."), "invalid") from None
    if not amount.is_finite():
        raise field_error(field, _("Enter an amount such as 1200.00."), "invalid")
    if amount < 0:
        raise field_error(field, _("The amount cannot be negative."), "negative")
    if amount > FEE_MAX or amount != amount.quantize(Decimal("0.01")):
        raise field_error(field, _("At most 10 digits before and 2 after the decimal point."), "invalid")
    return amount


def parse_currency(value, field: str = "currency") -> str:
    code = (value or "").strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise field_error(field, _("Enter a three-letter currency code such as CNY."), "invalid")
    return code
