"""Escalation rules: whom to tell when a clock reaches a point (the administrator's settings)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.core.errors import field_error, require
from fieldservice.core.events import DELETED, record_created, record_event, record_updated, snapshot
from fieldservice.sla.choices import NotifyRole, TargetKind
from fieldservice.sla.models import EscalationRule, SlaClock
from fieldservice.sla.permissions import may_manage_sla
from fieldservice.sla.services.fields import MAX_TARGET_MINUTES, check_text, raise_errors
from fieldservice.workorders.choices import Priority

RULE_FIELDS = ["name", "target", "after_minutes", "percent_used", "priorities", "notify", "is_active", "position"]


def _check_rule(fields: dict, rule: EscalationRule | None) -> dict:
    errors: dict[str, list[ValidationError]] = {}
    cleaned = {}

    def add(field, message, code="invalid"):
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    for name, value in fields.items():
        if name == "name":
            value = check_text(value, "name", 100, errors)
        elif name == "target":
            value = value or ""
            if value and value not in TargetKind.values:
                add(name, _("Choose a target."), "invalid_choice")
        elif name in ("after_minutes", "percent_used", "position"):
            if value in (None, ""):
                value = 0 if name == "position" else None
            else:
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    add(name, _("Enter a whole number."))
                    continue
        elif name == "priorities":
            value = sorted(set(value or ()))
            if any(item not in Priority.values for item in value):
                add(name, _("Choose priorities from the list."), "invalid_choice")
        elif name == "notify":
            if value not in NotifyRole.values:
                add(name, _("Choose whom to notify."), "invalid_choice")
        elif name == "is_active":
            value = bool(value)
        else:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
        cleaned[name] = value
    after = cleaned.get("after_minutes", rule.after_minutes if rule else None)
    percent = cleaned.get("percent_used", rule.percent_used if rule else None)
    if "after_minutes" not in errors and "percent_used" not in errors:
        if after is not None and percent is not None:
            message = _("Give either minutes after the start or a percentage used, not both.")
            add("after_minutes", message, "one_trigger")
            add("percent_used", message, "one_trigger")
        elif after is None and percent is None:
            add("after_minutes", _("Give minutes after the start, or a percentage used."), "one_trigger")
        elif after is not None and not 0 < after <= MAX_TARGET_MINUTES:
            add("after_minutes", _("Enter at least one minute."), "out_of_range")
        elif percent is not None and not 1 <= percent <= 100:
            add("percent_used", _("Enter a percentage from 1 to 100."), "out_of_range")
    if "position" in cleaned and not errors.get("position") and cleaned["position"] < 0:
        add("position", _("Enter zero or more."), "out_of_range")
    raise_errors(errors)
    return cleaned


def _recheck_running_clocks() -> int:
    """A changed rule may fire earlier than what the clocks wait for: the next check looks at
    every running clock again (keys keep it from repeating what was sent)."""
    now = timezone.now()
    return (
        SlaClock.objects.filter(met_at__isnull=True, stopped_at__isnull=True, paused_at__isnull=True)
        .exclude(next_check_at__lte=now)
        .update(next_check_at=now)
    )


@transaction.atomic
def create_rule(
    *,
    actor: User,
    name: str,
    notify: str,
    target: str = "",
    after_minutes: int | None = None,
    percent_used: int | None = None,
    priorities: Iterable[str] = (),
    is_active: bool = True,
    position: int = 0,
) -> EscalationRule:
    require(may_manage_sla(actor))
    cleaned = _check_rule(
        {
            "name": name,
            "target": target,
            "after_minutes": after_minutes,
            "percent_used": percent_used,
            "priorities": list(priorities or ()),
            "notify": notify,
            "is_active": is_active,
            "position": position,
        },
        None,
    )
    rule = EscalationRule.objects.create(**cleaned)
    record_created(rule, actor=actor, fields=RULE_FIELDS)
    _recheck_running_clocks()
    return rule


@transaction.atomic
def update_rule(rule: EscalationRule, *, actor: User, **fields) -> EscalationRule:
    require(may_manage_sla(actor))
    cleaned = _check_rule(fields, rule)
    rule = EscalationRule.objects.select_for_update().get(pk=rule.pk)
    before = snapshot(rule, RULE_FIELDS)
    for name, value in cleaned.items():
        setattr(rule, name, value)
    rule.save()
    if record_updated(rule, actor=actor, before=before):
        _recheck_running_clocks()
    return rule


@transaction.atomic
def delete_rule(rule: EscalationRule, *, actor: User) -> None:
    require(may_manage_sla(actor))
    record_event(rule, actor=actor, action=DELETED, note=rule.name)
    rule.delete()
