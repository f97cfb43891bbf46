"""Field checks shared by every app's services, so a phone number or a coordinate
means the same thing in customers, sites and engineer profiles."""

import datetime as dt
from decimal import Decimal, InvalidOperation

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.core.errors import field_error

DEFAULT_PHONE_REGION = "CN"
# The largest value a database integer column holds (PostgreSQL's bigint, SQLite's INTEGER).
MAX_DB_INT = 2**63 - 1


# The dates anyone of ours can mean: a machine installed, a contract run, a visit planned. Outside
# them a date is a typo (1800 for 2018) or a probe (9999-12-31), and near the calendar's ends date
# arithmetic (a contract's next day, a plan's week) overflows.
EARLIEST_DATE = dt.date(1950, 1, 1)
YEARS_AHEAD = 50


def date_bounds() -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    return EARLIEST_DATE, today.replace(year=today.year + YEARS_AHEAD, day=min(today.day, 28))


def check_date(value, *, field: str):
    """Refuse a date (or a datetime, by its date) outside `date_bounds()`, naming `field`; None passes."""
    if value is None:
        return value
    day = value
    if isinstance(value, dt.datetime):
        day = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    earliest, latest = date_bounds()
    if not earliest <= day <= latest:
        raise field_error(
            field,
            _("Enter a date between %(earliest)s and %(latest)s.")
            % {"earliest": earliest.isoformat(), "latest": latest.isoformat()},
            "out_of_range",
        )
    return value


def check_length(value, *, model, field: str, name: str | None = None) -> str:
    """The text stripped, refused (naming `name`, default `field`) when longer than `model.field`
    holds: a long value is the sender's to shorten, never cut here without a word."""
    text = (value or "").strip()
    limit = model._meta.get_field(field).max_length
    if limit is not None and len(text) > limit:
        raise field_error(
            name or field,
            _("Ensure this value has at most %(limit)d characters (it has %(length)d).")
            % {"limit": limit, "length": len(text)},
            "max_length",
        )
    return text


def has_nul(value) -> bool:
    """Whether text, or any text in a list or dict, holds a NUL byte (PostgreSQL cannot store one)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    return False


def parse_id(value) -> int | None:
    """An id from a query string or form value, or None: only ASCII digits (`"²".isdigit()` is true,
    `int("²")` fails) and no larger than a database integer, which would reach the database as an
    overflow."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= MAX_DB_INT else None


def normalise_phone(raw: str, *, field: str = "phone") -> str:
    """Return the number in E.164 (+8613812345678), or raise naming `field`.

    Chinese numbers may be written without +86; others need their country code.
    """
    text = (raw or "").strip()
    if not text:
        raise field_error(field, _("Enter a phone number."), "required")
    try:
        number = phonenumbers.parse(text, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise field_error(field, _("“%(value)s” is not a phone number.") % {"value": text}, "invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise field_error(field, _("“%(value)s” is not a valid phone number.") % {"value": text}, "invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str, *, field: str = "email") -> str:
    text = (raw or "").strip().lower()
    if not text:
        return ""
    try:
        validate_email(text)
    except ValidationError:
        raise field_error(field, _("“%(value)s” is not an e-mail address.") % {"value": raw}, "invalid_email") from None
    return text


def _decimal(value, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise field_error(field, _("Enter a number."), "invalid") from None
    if not number.is_finite():
        raise field_error(field, _("Enter a number."), "invalid")
    return number


def check_coordinates(
    latitude, longitude, *, fields: tuple[str, str] = ("latitude", "longitude")
) -> tuple[Decimal | None, Decimal | None]:
    """Both or neither; latitude within ±90, longitude within ±180; six decimals kept."""
    lat_field, lng_field = fields
    lat = _decimal(latitude, lat_field)
    lng = _decimal(longitude, lng_field)
    if (lat is None) != (lng is None):
        missing = lng_field if lng is None else lat_field
        raise field_error(missing, _("Give both latitude and longitude, or neither."), "required")
    if lat is not None and not Decimal(-90) <= lat <= Decimal(90):
        raise field_error(lat_field, _("Latitude must be between -90 and 90."), "out_of_range")
    if lng is not None and not Decimal(-180) <= lng <= Decimal(180):
        raise field_error(lng_field, _("Longitude must be between -180 and 180."), "out_of_range")
    quantum = Decimal("0.000001")
    return (
        lat.quantize(quantum) if lat is not None else None,
        lng.quantize(quantum) if lng is not None else None,
    )
