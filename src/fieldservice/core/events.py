"""Writers for the generic event log. Services call these; nothing else does."""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext_lazy as _

from fieldservice.core.models import Event

CREATED = "created"
UPDATED = "updated"
DELETED = "deleted"

SECRET_ROTATED = "secret_rotated"

# The one registry of labels for the actions recorded in the event log and the service log. Core
# labels the generic actions; every app registers its own codes in its AppConfig.ready(), so no
# app's vocabulary lives here. An action without a label shows its code (tests forbid that).
_ACTION_LABELS: dict[str, tuple[str, Any]] = {}


def register_action_labels(owner: str, labels: Mapping[str, Any]) -> None:
    """Label action codes for the logs. `owner` is the registering app's label; a code belongs
    to one app, so a second app labelling it (with another meaning, likely) is a mistake."""
    for code, label in labels.items():
        code = str(code)
        known = _ACTION_LABELS.get(code)
        if known is not None and known[0] != owner:
            raise ImproperlyConfigured(f"Action {code!r} is labelled by both {known[0]} and {owner}.")
        _ACTION_LABELS[code] = (owner, label)


def action_label(code: str) -> str:
    known = _ACTION_LABELS.get(code)
    return str(known[1]) if known is not None else code


def action_labels() -> dict[str, Any]:
    """Every registered code and its (lazy) label."""
    return {code: label for code, (_owner, label) in _ACTION_LABELS.items()}


register_action_labels(
    "core",
    {
        CREATED: _("created"),
        UPDATED: _("updated"),
        DELETED: _("deleted"),
        # Several apps rotate secrets (calendar feeds, webhook subscriptions).
        SECRET_ROTATED: _("secret rotated"),
    },
)


# Labels of logged changes that are not a field of the logged object (a summary such as "the open
# amount" or "the online payment"), by the app that logs them; a model field is labelled by its
# verbose name.
_CHANGE_LABELS: dict[str, Any] = {}


def register_change_labels(labels: Mapping[str, Any]) -> None:
    _CHANGE_LABELS.update(labels)


def change_label(model, name: str) -> str:
    """The words for a changed value of `model` in the logs: the field's verbose name, else a
    registered label, else the name."""
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - summaries like "bom" or "skills" are not model fields
        label = _CHANGE_LABELS.get(name)
        return str(label) if label is not None else name


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


def record_events(objs: Iterable[models.Model], *, actor, action: str, changes=None, note: str = "") -> None:
    """`record_event` for many objects of one model at once (one INSERT): a batch service (a
    month's statements) leaves one row per object it changed. `changes` is a dict shared by every
    row, or a function of the object."""
    objs = list(objs)
    if not objs:
        return
    content_type = ContentType.objects.get_for_model(objs[0])
    actor = actor if getattr(actor, "pk", None) else None
    Event.objects.bulk_create(
        (
            Event(
                content_type=content_type,
                object_pk=str(obj.pk),
                object_repr=str(obj)[:200],
                action=action,
                changes=(changes(obj) if callable(changes) else changes) or {},
                note=note[:500],
                actor=actor,
            )
            for obj in objs
        ),
        batch_size=2000,
    )
