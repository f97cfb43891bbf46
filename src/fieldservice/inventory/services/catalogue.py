"""The parts catalogue."""

from django.db import transaction
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.errors import field_error, require
from fieldservice.core.events import record_created, record_updated, snapshot
from fieldservice.core.validation import check_length
from fieldservice.inventory.choices import Tracking, Unit
from fieldservice.inventory.models import Part

PART_FIELDS = ["part_number", "name", "specification", "unit", "tracking", "is_active"]


def _check(fields: dict, part: Part | None = None) -> dict:
    cleaned = {}
    for name, value in fields.items():
        if name == "part_number":
            value = (value or "").strip().upper()
            if not value:
                raise field_error("part_number", _("This field is required."), "required")
            clash = Part.objects.filter(part_number=value)
            if part is not None:
                clash = clash.exclude(pk=part.pk)
            if clash.exists():
                raise field_error("part_number", _("Part number %(value)s exists.") % {"value": value}, "duplicate")
        elif name == "name":
            value = (value or "").strip()
            if not value:
                raise field_error("name", _("This field is required."), "required")
        elif name == "specification":
            value = check_length(value, model=Part, field="specification")
        elif name == "unit":
            if value not in Unit.values:
                raise field_error("unit", _("Unknown unit."), "invalid_choice")
        elif name == "tracking":
            if value not in Tracking.values:
                raise field_error("tracking", _("Unknown kind of tracking."), "invalid_choice")
            if part is not None and value != part.tracking and part.balances.filter(on_hand__gt=0).exists():
                message = _("The part is in stock: empty its stock before changing how it is tracked.")
                raise field_error("tracking", message, "in_stock")
        elif name == "is_active":
            value = bool(value)
        else:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
        cleaned[name] = value
    return cleaned


@transaction.atomic
def create_part(*, actor: User, part_number: str, name: str, **fields) -> Part:
    require(can(actor, Capability.CHANGE_PARTS))
    part = Part.objects.create(**_check({"part_number": part_number, "name": name, **fields}))
    record_created(part, actor=actor, fields=PART_FIELDS)
    return part


@transaction.atomic
def update_part(part: Part, *, actor: User, **fields) -> Part:
    require(can(actor, Capability.CHANGE_PARTS))
    cleaned = _check(fields, part)
    before = snapshot(part, PART_FIELDS)
    for name, value in cleaned.items():
        setattr(part, name, value)
    part.save()
    record_updated(part, actor=actor, before=before)
    return part
