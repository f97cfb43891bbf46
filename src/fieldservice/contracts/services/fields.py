"""Field checks (and the permission check) shared by the contract and price-list services."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.contracts.permissions import may_manage_contracts
from fieldservice.core.errors import field_error, require
from fieldservice.core.money import MONEY_MAX, parse_currency, parse_money  # noqa: F401 (re-exported)

FEE_MAX = MONEY_MAX


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
