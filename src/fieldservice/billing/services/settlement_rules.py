"""Settlement rules and what an order earns its party by them.

A rule names a provider (its orders), a team of our engineers, or neither (every engineer of
ours), and may narrow itself to one service type; `amount_for` adds up what one order earns under
the rules that apply to it (per order, hour or kilometre, a share of the labour, a parts handling
fee, rating and SLA bonuses and deductions), with a breakdown of how. `settlement` places those
amounts on statements.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import Organisation, ServiceTeam, User
from fieldservice.billing.choices import (
    PERCENT_BASES,
    SCORE_BASES,
    SettlementBasis,
)
from fieldservice.billing.models import SettlementRule, StatementLine
from fieldservice.billing.permissions import may_settle
from fieldservice.core.choices import ServiceType
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_created, record_updated, snapshot
from fieldservice.core.money import MONEY_MAX
from fieldservice.core.validation import check_length

ZERO = Decimal("0")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")
RULE_FIELDS = ["name", "provider", "team", "service_type", "basis", "rate", "threshold", "is_active"]


# Parsing ----------------------------------------------------------------------------------------


def signed_amount(value, field_name: str, *, allow_zero: bool = True) -> Decimal:
    """An amount that may be negative (a deduction, an adjustment): two decimals, within the column."""
    if isinstance(value, str):
        value = value.strip().replace(",", "")
    if value in (None, ""):
        raise field_error(field_name, _("This field is required."), "required")
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise field_error(field_name, _("Enter an amount such as 1200.00."), "invalid") from None
    if not amount.is_finite() or abs(amount) > MONEY_MAX or amount != amount.quantize(CENT):
        raise field_error(field_name, _("Enter an amount such as 1200.00."), "invalid")
    if not allow_zero and amount == 0:
        raise field_error(field_name, _("The amount cannot be zero."), "zero")
    return amount


def _reason(value, field_name: str, model=StatementLine, column: str | None = None) -> str:
    text = check_length((value or "").strip(), model=model, field=column or field_name, name=field_name)
    if not text:
        raise field_error(field_name, _("Give a reason."), "required")
    return text


# Rules ------------------------------------------------------------------------------------------


def _clean_rule(values: dict) -> dict:
    cleaned = {}
    name = check_length((values.get("name") or "").strip(), model=SettlementRule, field="name")
    if not name:
        raise field_error("name", _("This field is required."), "required")
    cleaned["name"] = name
    basis = values.get("basis")
    if basis not in SettlementBasis.values:
        raise field_error("basis", _("Choose a basis."), "invalid")
    cleaned["basis"] = basis
    service_type = values.get("service_type") or ""
    if service_type and service_type not in ServiceType.values:
        raise field_error("service_type", _("Choose a service type."), "invalid")
    cleaned["service_type"] = service_type
    provider, team = values.get("provider"), values.get("team")
    if provider is not None and team is not None:
        raise field_error("team", _("A rule is for a provider or for a team of our engineers, not both."), "both")
    if provider is not None and (not isinstance(provider, Organisation) or provider.kind != OrganisationKind.PROVIDER):
        raise field_error("provider", _("Choose a service provider."), "invalid")
    if team is not None and not isinstance(team, ServiceTeam):
        raise field_error("team", _("Choose a team."), "invalid")
    cleaned["provider"], cleaned["team"] = provider, team
    rate = values.get("rate")
    try:
        rate = Decimal(str(rate).strip()) if rate not in (None, "") else None
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite():
        raise field_error("rate", _("Enter an amount such as 1200.00."), "invalid")
    if rate < 0:
        raise field_error("rate", _("The amount cannot be negative."), "negative")
    if rate != rate.quantize(CENT) or rate > MONEY_MAX:
        raise field_error("rate", _("At most 10 digits before and 2 after the decimal point."), "invalid")
    if basis in PERCENT_BASES and rate > HUNDRED:
        raise field_error("rate", _("A percentage is between 0 and 100."), "percent")
    cleaned["rate"] = rate
    threshold = values.get("threshold")
    if basis in SCORE_BASES:
        try:
            threshold = Decimal(str(threshold).strip()) if threshold not in (None, "") else None
        except InvalidOperation:
            threshold = None
        if threshold is None or not threshold.is_finite() or not 1 <= threshold <= 5:
            raise field_error("threshold", _("A rating threshold between 1 and 5."), "threshold")
        if threshold != threshold.quantize(Decimal("0.1")):
            raise field_error("threshold", _("A rating threshold between 1 and 5."), "threshold")
        cleaned["threshold"] = threshold
    else:
        cleaned["threshold"] = None
    cleaned["is_active"] = bool(values.get("is_active", True))
    return cleaned


def create_rule(*, actor: User, **values) -> SettlementRule:
    require(may_settle(actor))
    cleaned = _clean_rule(values)
    with transaction.atomic():
        rule = SettlementRule.objects.create(**cleaned)
        record_created(rule, actor=actor, fields=RULE_FIELDS)
    return rule


def update_rule(rule: SettlementRule, *, actor: User, **values) -> SettlementRule:
    require(may_settle(actor))
    with transaction.atomic():
        rule = SettlementRule.objects.select_for_update().get(pk=rule.pk)
        merged = {name: getattr(rule, name) for name in RULE_FIELDS}
        merged.update(values)
        cleaned = _clean_rule(merged)
        before = snapshot(rule, RULE_FIELDS)
        for name, value in cleaned.items():
            setattr(rule, name, value)
        rule.save()
        record_updated(rule, actor=actor, before=before)
    return rule


def deactivate_rule(rule: SettlementRule, *, actor: User) -> SettlementRule:
    require(may_settle(actor))
    with transaction.atomic():
        rule = SettlementRule.objects.select_for_update().get(pk=rule.pk)
        if not rule.is_active:
            raise DomainError("already_inactive", _("This rule is already inactive."))
        before = snapshot(rule, ["is_active"])
        rule.is_active = False
        rule.save(update_fields=["is_active"])
        record_updated(rule, actor=actor, before=before)
    return rule


# Amounts ----------------------------------------------------------------------------------------


@dataclass
class OrderFacts:
    """What the rules look at for one order."""

    order_id: int
    number: str
    service_type: str
    labour_hours: Decimal = ZERO
    km: Decimal = ZERO
    labour_amount: Decimal = ZERO
    parts_amount: Decimal = ZERO
    score: int | None = None
    sla: str | None = None  # "met", "breached" or None (no clock, or still running)


@dataclass
class RuleSet:
    """The active rules, grouped by whom they are for."""

    by_provider: dict = field(default_factory=lambda: defaultdict(list))
    by_team: dict = field(default_factory=lambda: defaultdict(list))
    general: list = field(default_factory=list)
    chosen: dict = field(default_factory=dict)

    @classmethod
    def load(cls) -> RuleSet:
        rules = cls()
        for rule in SettlementRule.objects.filter(is_active=True).order_by("pk"):
            if rule.provider_id:
                rules.by_provider[rule.provider_id].append(rule)
            elif rule.team_id:
                rules.by_team[rule.team_id].append(rule)
            else:
                rules.general.append(rule)
        return rules

    def for_party(self, *, provider_id: int | None, team_id: int | None, service_type: str) -> list[SettlementRule]:
        """A provider's own rules; for an engineer of ours his team's rules, else the general ones.
        Of each basis, the rules naming the order's service type win over those for any type."""
        key = (provider_id, team_id, service_type)
        if key not in self.chosen:
            self.chosen[key] = self._choose(provider_id, team_id, service_type)
        return self.chosen[key]

    def _choose(self, provider_id: int | None, team_id: int | None, service_type: str) -> list[SettlementRule]:
        if provider_id is not None:
            return _applicable(self.by_provider.get(provider_id, []), service_type)
        if team_id is not None:
            rules = _applicable(self.by_team.get(team_id, []), service_type)
            if rules:
                return rules
        return _applicable(self.general, service_type)


def _applicable(rules: list[SettlementRule], service_type: str) -> list[SettlementRule]:
    specific = {r.basis for r in rules if r.service_type == service_type}
    return [r for r in rules if r.service_type == service_type or (not r.service_type and r.basis not in specific)]


ONE = Decimal(1)
_PER_ORDER, _PER_HOUR, _PER_KM = (
    SettlementBasis.PER_ORDER.value,
    SettlementBasis.PER_HOUR.value,
    SettlementBasis.PER_KM.value,
)
_SHARE, _PARTS = SettlementBasis.LABOUR_SHARE.value, SettlementBasis.PARTS_FEE.value
_SCORE_BONUS, _SCORE_DEDUCTION = SettlementBasis.SCORE_BONUS.value, SettlementBasis.SCORE_DEDUCTION.value
_SLA_BONUS, _SLA_DEDUCTION = SettlementBasis.SLA_BONUS.value, SettlementBasis.SLA_DEDUCTION.value


def amount_for(facts: OrderFacts, rules: list[SettlementRule]) -> tuple[Decimal, list[dict]]:
    """What the rules give for one order, and how (the line's breakdown). Amounts are rounded to
    the cent, half up, rule by rule; a deduction is negative; a rule that gives nothing is left out
    of the breakdown (a per-order rate of zero stays, so the line says why it is zero)."""
    total = ZERO
    breakdown = []
    for rule in rules:
        basis = str(rule.basis)
        rate = rule.rate
        quantity = None
        if basis == _PER_ORDER:
            quantity, amount = ONE, rate
        elif basis == _PER_HOUR:
            quantity = facts.labour_hours
            amount = (quantity * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        elif basis == _PER_KM:
            quantity = facts.km
            amount = (quantity * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        elif basis == _SHARE:
            quantity = facts.labour_amount
            amount = (quantity * rate / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
        elif basis == _PARTS:
            quantity = facts.parts_amount
            amount = (quantity * rate / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
        elif basis == _SCORE_BONUS:
            if facts.score is None or facts.score < rule.threshold:
                continue
            quantity, amount = Decimal(facts.score), rate
        elif basis == _SCORE_DEDUCTION:
            if facts.score is None or facts.score > rule.threshold:
                continue
            quantity, amount = Decimal(facts.score), -rate
        elif basis == _SLA_BONUS:
            if facts.sla != "met":
                continue
            amount = rate
        elif basis == _SLA_DEDUCTION:
            if facts.sla != "breached":
                continue
            amount = -rate
        else:  # pragma: no cover - the choices are closed
            continue
        if not amount and basis != _PER_ORDER:
            continue
        total += amount
        breakdown.append(
            {
                "rule": rule.pk,
                "basis": basis,
                "quantity": None if quantity is None else str(quantity),
                "rate": str(rate),
                "amount": str(amount),
            }
        )
    return total, breakdown


# Generation -------------------------------------------------------------------------------------
