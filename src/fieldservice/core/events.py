"""Writers for the generic event log. Services call these; nothing else does."""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from fieldservice.core.models import Event

CREATED = "created"
UPDATED = "updated"
DELETED = "deleted"

# Labels for the actions services record; an action missing here shows its code.
ACTION_LABELS = {
    CREATED: _("created"),
    UPDATED: _("updated"),
    DELETED: _("deleted"),
    "roles_changed": _("roles changed"),
    "secret_rotated": _("secret rotated"),
    "holidays_loaded": _("holidays loaded"),
    "retried": _("delivery retried"),
    "activated": _("activated"),
    "terminated": _("terminated"),
    "extended": _("extended"),
    "expired": _("expired"),
    "equipment_changed": _("covered machines changed"),
    "price_set": _("price set"),
    "price_removed": _("price removed"),
    "redelivered": _("redelivered"),
    "skills_changed": _("skills changed"),
    "bom_changed": _("bill of materials changed"),
    "document_added": _("document added"),
    "qr_token_renewed": _("QR code renewed"),
    "revoked": _("revoked"),
    "imported": _("imported"),
    "confirmed": _("confirmed"),
    "resolved": _("resolved without a visit"),
    "discarded": _("discarded"),
    "email_reply": _("e-mail reply received"),
    "published": _("published"),
    "callback_recorded": _("call back recorded"),
    "parts_replaced": _("parts replaced"),
}


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Plain values of the named fields, for comparing before and after a change."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.is_relation and field.many_to_one:
            related = getattr(obj, name)
            values[name] = str(related) if related is not None else None
        elif getattr(field, "choices", None):
            raw = getattr(obj, name)
            values[name] = str(dict(field.flatchoices).get(raw, raw)) if raw not in (None, "") else raw
        else:
            values[name] = _plain(getattr(obj, name))
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {key: [before.get(key), after[key]] for key in after if before.get(key) != after[key]}


def record_event(
    obj: models.Model,
    *,
    actor,
    action: str,
    changes: dict[str, list[Any]] | None = None,
    related: models.Model | None = None,
    note: str = "",
) -> Event:
    return Event.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_pk=str(obj.pk),
        object_repr=str(obj)[:200],
        related_content_type=ContentType.objects.get_for_model(related) if related is not None else None,
        related_object_pk=str(related.pk) if related is not None else "",
        action=action,
        changes=changes or {},
        note=note[:500],
        actor=actor if getattr(actor, "pk", None) else None,
    )


def record_created(obj: models.Model, *, actor, fields: Iterable[str], related=None, note="") -> Event:
    after = snapshot(obj, fields)
    changes = {key: [None, value] for key, value in after.items() if value not in (None, "")}
    return record_event(obj, actor=actor, action=CREATED, changes=changes, related=related, note=note)


def record_updated(obj: models.Model, *, actor, before: dict[str, Any], related=None, note="") -> Event | None:
    """Record the fields that changed since `before`; nothing if nothing changed."""
    changes = diff(before, snapshot(obj, before.keys()))
    if not changes:
        return None
    return record_event(obj, actor=actor, action=UPDATED, changes=changes, related=related, note=note)
