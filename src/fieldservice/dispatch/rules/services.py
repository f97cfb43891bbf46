"""Keeping the dispatch rule table: create, change, reorder, switch on/off, delete; and the
boundary of a service area that rules and engineers' coverage test sites against.

Every change needs Capability.MANAGE_DISPATCH_RULES and is written to the event log. A rule is
checked whole before it is saved, each problem reported on the field it concerns (an unknown
field by its own name, a condition as `conditions.<field>`, a weight as `weights.<factor>`).
"""

from __future__ import annotations

import math

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from fieldservice.accounts.choices import OrganisationKind, Role
from fieldservice.accounts.models import Organisation, ServiceArea, ServiceTeam, User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_created, record_event, record_updated, snapshot
from fieldservice.core.geo import validate_polygon
from fieldservice.dispatch.choices import RuleAction, RuleStrategy, RuleTarget
from fieldservice.dispatch.models import DispatchRule
from fieldservice.dispatch.permissions import may_manage_rules
from fieldservice.dispatch.rules.conditions import validate_conditions
from fieldservice.dispatch.rules.engine import FACTORS

RULE_FIELDS = (
    "name",
    "is_active",
    "conditions",
    "action",
    "target_kind",
    "target_engineer",
    "target_team",
    "target_provider",
    "strategy",
    "weights",
    "pool_minutes",
    "pool_requires_approval",
)
MAX_WEIGHT = 100
MAX_POOL_MINUTES = 7 * 24 * 60


def _validate_weights(weights) -> dict:
    if weights in (None, ""):
        return {}
    if not isinstance(weights, dict):
        raise field_error("weights", _("Weights must map a factor to a number."))
    cleaned = {}
    for name, value in weights.items():
        if name not in FACTORS:
            raise field_error(
                f"weights.{name}",
                _("Unknown factor “%(field)s”; use one of: %(known)s.") % {"field": name, "known": ", ".join(FACTORS)},
                "unknown_field",
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise field_error(f"weights.{name}", _("Give a number."), "invalid")
        if not 0 <= value <= MAX_WEIGHT:
            raise field_error(f"weights.{name}", _("Give a weight from 0 to 100."), "out_of_range")
        cleaned[name] = value
    if cleaned and len(cleaned) == len(FACTORS) and not any(cleaned.values()):
        raise field_error("weights", _("At least one weight must be above zero."), "all_zero")
    return cleaned


def _check(rule: DispatchRule) -> None:
    name = (rule.name or "").strip()
    if not name:
        raise field_error("name", _("Give the rule a name."), "required")
    if len(name) > 100:
        raise field_error("name", _("At most 100 characters."), "max_length")
    rule.name = name
    if rule.action not in RuleAction.values:
        raise field_error("action", _("Choose an action."), "invalid_choice")
    if rule.target_kind not in RuleTarget.values:
        raise field_error("target_kind", _("Choose a target."), "invalid_choice")
    if rule.strategy not in RuleStrategy.values:
        raise field_error("strategy", _("Choose a strategy."), "invalid_choice")
    rule.conditions = validate_conditions(rule.conditions)
    rule.weights = _validate_weights(rule.weights)
    if rule.action == RuleAction.POOL:
        if rule.pool_minutes is not None and not 1 <= rule.pool_minutes <= MAX_POOL_MINUTES:
            raise field_error("pool_minutes", _("Give 1 to 10080 minutes (a week)."), "out_of_range")
        rule.target_kind, rule.strategy = RuleTarget.ANYONE, RuleStrategy.BEST_MATCH
        rule.target_engineer = rule.target_team = rule.target_provider = None
        return
    kind = rule.target_kind
    # Only the target the kind names is kept, so a stale choice never decides anything.
    if kind != RuleTarget.ENGINEER:
        rule.target_engineer = None
    if kind != RuleTarget.TEAM:
        rule.target_team = None
    if kind != RuleTarget.PROVIDER:
        rule.target_provider = None
    if kind == RuleTarget.ENGINEER:
        engineer = rule.target_engineer
        if engineer is None:
            raise field_error("target_engineer", _("Choose the engineer."), "required")
        if (
            not engineer.is_active
            or not engineer.has_role(Role.ENGINEER)
            or engineer.organisation_kind not in (OrganisationKind.OWN, OrganisationKind.PROVIDER)
        ):
            raise field_error("target_engineer", _("Choose an active engineer."), "invalid_choice")
    elif kind == RuleTarget.TEAM and rule.target_team is None:
        raise field_error("target_team", _("Choose the team."), "required")
    elif kind == RuleTarget.PROVIDER:
        provider = rule.target_provider
        if provider is None or provider.kind != OrganisationKind.PROVIDER or not provider.is_active:
            raise field_error("target_provider", _("Choose an active service provider."), "invalid_choice")
    fixed = kind in (RuleTarget.ENGINEER, RuleTarget.PROVIDER)
    if fixed and rule.strategy != RuleStrategy.FIXED:
        raise field_error(
            "strategy", _("A named engineer or provider takes the order: choose “Fixed”."), "invalid_choice"
        )
    if not fixed and rule.strategy == RuleStrategy.FIXED:
        raise field_error("strategy", _("“Fixed” needs a named engineer or provider as the target."), "invalid_choice")


def _apply(rule: DispatchRule, fields: dict) -> None:
    unknown = [name for name in fields if name not in RULE_FIELDS]
    if unknown:
        raise field_error(unknown[0], _("Unknown field “%(field)s”.") % {"field": unknown[0]}, "unknown_field")
    expected = {"target_engineer": User, "target_team": ServiceTeam, "target_provider": Organisation}
    for name, value in fields.items():
        if name in expected and value is not None and not isinstance(value, expected[name]):
            raise field_error(name, _("Choose a valid option."), "invalid_choice")
        setattr(rule, name, value)


@transaction.atomic
def create_rule(*, actor: User, **fields) -> DispatchRule:
    """A new rule, last in the table."""
    require(may_manage_rules(actor))
    rule = DispatchRule(created_by=actor)
    _apply(rule, fields)
    _check(rule)
    # Lock the table so two rules added at once do not share a position.
    list(DispatchRule.objects.select_for_update().values_list("pk", flat=True))
    rule.position = (DispatchRule.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    rule.save()
    record_created(rule, actor=actor, fields=RULE_FIELDS)
    return rule


@transaction.atomic
def update_rule(rule: DispatchRule, *, actor: User, **fields) -> DispatchRule:
    require(may_manage_rules(actor))
    rule = DispatchRule.objects.select_for_update().get(pk=rule.pk)
    before = snapshot(rule, RULE_FIELDS)
    _apply(rule, fields)
    _check(rule)
    rule.save()
    record_updated(rule, actor=actor, before=before)
    return rule


@transaction.atomic
def set_rule_active(rule: DispatchRule, *, actor: User, is_active: bool) -> DispatchRule:
    return update_rule(rule, actor=actor, is_active=bool(is_active))


@transaction.atomic
def delete_rule(rule: DispatchRule, *, actor: User) -> None:
    """Assignments made by the rule keep their history; their link to it is cleared."""
    require(may_manage_rules(actor))
    rule = DispatchRule.objects.select_for_update().get(pk=rule.pk)
    record_event(rule, actor=actor, action="deleted", note=rule.name)
    rule.delete()


@transaction.atomic
def move_rule(rule: DispatchRule, *, actor: User, direction: str) -> DispatchRule:
    """One place up (tried earlier) or down, by swapping with the neighbour. The whole table is
    renumbered 1..n under a lock, so positions stay distinct whatever they were."""
    require(may_manage_rules(actor))
    if direction not in ("up", "down"):
        raise field_error("direction", _("Move a rule up or down."), "invalid_choice")
    rules = list(DispatchRule.objects.select_for_update().order_by("position", "pk"))
    index = next((i for i, r in enumerate(rules) if r.pk == rule.pk), None)
    if index is None:
        raise DomainError("not_found", _("The rule no longer exists."))
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rules):
        raise DomainError(
            "cannot_move",
            _("The rule is already first.") if direction == "up" else _("The rule is already last."),
        )
    rules[index], rules[other] = rules[other], rules[index]
    for position, item in enumerate(rules, start=1):
        if item.position != position:
            item.position = position
            DispatchRule.objects.filter(pk=item.pk).update(position=position)
    moved = rules[other]
    record_event(moved, actor=actor, action="moved", note=direction, changes={"position": [index + 1, other + 1]})
    return moved


# Service area boundaries


@transaction.atomic
def set_area_polygon(area: ServiceArea, *, actor: User, polygon) -> ServiceArea:
    """Draw (or clear, with an empty list) the boundary of a service area: a closed ring of
    [longitude, latitude] points. Errors name the field `polygon`."""
    require(may_manage_rules(actor) or (can(actor, Capability.MANAGE_PEOPLE) and actor.is_own_staff))
    ring = validate_polygon(polygon)
    area = ServiceArea.objects.select_for_update().get(pk=area.pk)
    before = {"polygon": area.polygon}
    area.polygon = ring
    area.save(update_fields=["polygon"])
    if before["polygon"] != ring:
        record_event(
            area, actor=actor, action="updated", changes={"polygon": [len(before["polygon"] or []), len(ring)]}
        )
    return area
