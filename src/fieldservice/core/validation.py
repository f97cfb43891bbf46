"""Field checks shared by every app's services, so a phone number or a coordinate
means the same thing in customers, sites and engineer profiles."""

from decimal import Decimal, InvalidOperation

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

DEFAULT_PHONE_REGION = "CN"


def normalise_phone(raw: str, *, field: str = "phone") -> str:
    """Return the number in E.164 (+8613812345678), or raise naming `field`.

    Chinese numbers may be written without +86; others need their country code.
    """
    text = (raw or "").strip()
    if not text:
        raise ValidationError({field: ValidationError(_("Enter a phone number."), code="required")})
    try:
        number = phonenumbers.parse(text, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            {field: ValidationError(_("“%(value)s” is not a phone number.") % {"value": text}, code="invalid_phone")}
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            {
                field: ValidationError(
                    _("“%(value)s” is not a valid phone number.") % {"value": text}, code="invalid_phone"
                )
            }
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str, *, field: str = "email") -> str:
    text = (raw or "").strip().lower()
    if not text:
        return ""
    try:
        validate_email(text)
    except ValidationError:
        raise ValidationError(
            {field: ValidationError(_("“%(value)s” is not an e-mail address.") % {"value": raw}, code="invalid_email")}
        ) from None
    return text


def _decimal(value, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({field: ValidationError(_("Enter a number."), code="invalid")}) from None
    if not number.is_finite():
        raise ValidationError({field: ValidationError(_("Enter a number."), code="invalid")})
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
        raise ValidationError(
            {missing: ValidationError(_("Give both latitude and longitude, or neither."), code="required")}
        )
    if lat is not None and not Decimal(-90) <= lat <= Decimal(90):
        raise ValidationError(
            {lat_field: ValidationError(_("Latitude must be between -90 and 90."), code="out_of_range")}
        )
    if lng is not None and not Decimal(-180) <= lng <= Decimal(180):
        raise ValidationError(
            {lng_field: ValidationError(_("Longitude must be between -180 and 180."), code="out_of_range")}
        )
    quantum = Decimal("0.000001")
    return (
        lat.quantize(quantum) if lat is not None else None,
        lng.quantize(quantum) if lng is not None else None,
    )
