"""Field checks shared by the settings services of calendars, policies and escalation rules."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# A target longer than a year of business minutes is a typing mistake.
MAX_TARGET_MINUTES = 60 * 24 * 366


def raise_errors(errors: dict[str, list[ValidationError]]) -> None:
    if errors:
        raise ValidationError(errors)


def check_text(value, field: str, limit: int, errors: dict) -> str:
    value = (value or "").strip()
    if not value:
        errors.setdefault(field, []).append(ValidationError(_("This field is required."), code="required"))
    elif len(value) > limit:
        errors.setdefault(field, []).append(
            ValidationError(_("At most %(n)d characters.") % {"n": limit}, code="max_length")
        )
    return value


def only_default(model, obj) -> None:
    model.objects.filter(is_default=True).exclude(pk=obj.pk).update(is_default=False)
