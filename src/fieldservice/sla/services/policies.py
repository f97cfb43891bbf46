"""SLA policies and their targets per priority (the administrator's settings)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.core.errors import field_error, require
from fieldservice.core.events import UPDATED, record_created, record_event, record_updated, snapshot
from fieldservice.customers.choices import CustomerTier
from fieldservice.sla.choices import TargetKind
from fieldservice.sla.models import BusinessCalendar, SlaPolicy, SlaTarget
from fieldservice.sla.permissions import may_manage_sla
from fieldservice.sla.services.clocks import TARGET_FIELDS
from fieldservice.sla.services.fields import MAX_TARGET_MINUTES, check_text, only_default, raise_errors
from fieldservice.workorders.choices import Priority

POLICY_FIELDS = ["code", "name", "calendar", "customer_tier", "is_default", "is_active", "description"]


def target_field(priority: str, kind: str) -> str:
    """The form field of one target ("urgent_response")."""
    return f"{priority}_{kind}"


def _check_targets(targets: dict) -> dict[str, dict[str, int | None]]:
    errors: dict[str, list[ValidationError]] = {}
    cleaned = {}
    for priority, values in targets.items():
        if priority not in Priority.values:
            raise field_error("targets", _("Unknown priority."), "invalid_choice")
        row = {}
        for kind in TargetKind.values:
            value = (values or {}).get(kind)
            if value in (None, ""):
                row[kind] = None
                continue
            try:
                value = int(value)
            except (TypeError, ValueError):
                value = 0
            if not 1 <= value <= MAX_TARGET_MINUTES:
                errors.setdefault(target_field(priority, kind), []).append(
                    ValidationError(
                        _("Enter whole minutes from 1 to %(max)d, or leave it empty.") % {"max": MAX_TARGET_MINUTES},
                        code="out_of_range",
                    )
                )
            row[kind] = value
        cleaned[priority] = row
    raise_errors(errors)
    return cleaned


def _check_policy(fields: dict, policy: SlaPolicy | None) -> dict:
    errors: dict[str, list[ValidationError]] = {}
    cleaned = {}
    pk = policy.pk if policy else None
    for name, value in fields.items():
        if name == "code":
            value = (value or "").strip()
            if not value or slugify(value) != value or len(value) > 40:
                errors.setdefault("code", []).append(
                    ValidationError(_("Use lower-case letters, digits and hyphens."), code="invalid")
                )
            elif SlaPolicy.objects.filter(code=value).exclude(pk=pk).exists():
                errors.setdefault("code", []).append(
                    ValidationError(_("A policy with this code exists."), code="duplicate")
                )
        elif name == "name":
            value = check_text(value, "name", 100, errors)
        elif name == "calendar":
            if not isinstance(value, BusinessCalendar):
                errors.setdefault("calendar", []).append(
                    ValidationError(_("Choose a business calendar."), code="required")
                )
        elif name == "customer_tier":
            value = value or ""
            if value and value not in CustomerTier.values:
                errors.setdefault(name, []).append(ValidationError(_("Choose a customer tier."), code="invalid_choice"))
            elif value and SlaPolicy.objects.filter(customer_tier=value).exclude(pk=pk).exists():
                other = SlaPolicy.objects.filter(customer_tier=value).exclude(pk=pk).first()
                errors.setdefault(name, []).append(
                    ValidationError(
                        _("Policy “%(name)s” already serves this tier.") % {"name": other.name}, code="duplicate"
                    )
                )
        elif name in ("is_default", "is_active"):
            value = bool(value)
        elif name == "description":
            value = (value or "").strip()
        else:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
        cleaned[name] = value
    is_default = cleaned.get("is_default", policy.is_default if policy else False)
    is_active = cleaned.get("is_active", policy.is_active if policy else True)
    if is_default and not is_active:
        errors.setdefault("is_active", []).append(
            ValidationError(_("The default policy must be active."), code="default_inactive")
        )
    raise_errors(errors)
    return cleaned


def _targets_summary(policy: SlaPolicy) -> dict[str, list]:
    return {
        target.priority: [getattr(target, field) for field in TARGET_FIELDS.values()]
        for target in policy.targets.order_by("priority")
    }


def _save_targets(policy: SlaPolicy, targets: dict[str, dict[str, int | None]]) -> None:
    for priority, row in targets.items():
        values = {TARGET_FIELDS[kind]: minutes for kind, minutes in row.items()}
        SlaTarget.objects.update_or_create(policy=policy, priority=priority, defaults=values)


@transaction.atomic
def create_policy(
    *,
    actor: User,
    code: str,
    name: str,
    calendar: BusinessCalendar | None,
    customer_tier: str = "",
    is_default: bool = False,
    is_active: bool = True,
    description: str = "",
    targets: dict | None = None,
) -> SlaPolicy:
    """A policy with business-minute targets per priority ({"urgent": {"response": 30, ...}})."""
    require(may_manage_sla(actor))
    fields = {
        "code": code,
        "name": name,
        "calendar": calendar,
        "customer_tier": customer_tier,
        "is_default": is_default,
        "is_active": is_active,
        "description": description,
    }
    cleaned = _check_policy(fields, None)
    cleaned_targets = _check_targets(targets or {})
    if cleaned["is_default"]:
        SlaPolicy.objects.filter(is_default=True).update(is_default=False)
    policy = SlaPolicy.objects.create(**cleaned)
    _save_targets(policy, cleaned_targets)
    record_created(policy, actor=actor, fields=POLICY_FIELDS)
    return policy


@transaction.atomic
def update_policy(policy: SlaPolicy, *, actor: User, targets: dict | None = None, **fields) -> SlaPolicy:
    """Change a policy and (given `targets`) its targets. Orders already running keep the targets
    their clocks started with."""
    require(may_manage_sla(actor))
    cleaned = _check_policy(fields, policy)
    cleaned_targets = _check_targets(targets) if targets is not None else None
    policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    if cleaned.get("is_default") is False and policy.is_default:
        raise field_error("is_default", _("Make another policy the default instead."), "default_required")
    before = snapshot(policy, POLICY_FIELDS)
    for name, value in cleaned.items():
        setattr(policy, name, value)
    if cleaned.get("is_default"):
        only_default(SlaPolicy, policy)
    policy.save()
    record_updated(policy, actor=actor, before=before)
    if cleaned_targets is not None:
        old = _targets_summary(policy)
        _save_targets(policy, cleaned_targets)
        new = _targets_summary(policy)
        if old != new:
            record_event(policy, actor=actor, action=UPDATED, changes={"targets": [old, new]})
    return policy
