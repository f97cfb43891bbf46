"""What each user may see of settlement (结算): the manager every statement; a provider's
administrator his company's; an engineer his own; anyone else none (billing.permissions)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import Organisation, ServiceTeam, User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.billing.choices import PartyKind
from fieldservice.billing.models import SettlementRule, Statement, StatementLine
from fieldservice.billing.permissions import may_settle
from fieldservice.workorders.models import WorkOrder

__all__ = [
    "get_line_for",
    "get_rule_for",
    "get_statement_for",
    "lines_of",
    "pending_adjustments_for",
    "providers",
    "rules_for",
    "settled_order_for",
    "statements_for",
    "teams",
]


def statements_for(
    actor: User,
    *,
    q: str = "",
    status: str = "",
    party_kind: str = "",
    provider: int | None = None,
    engineer: int | None = None,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
) -> QuerySet[Statement]:
    if not actor.is_authenticated or not actor.is_active:
        return Statement.objects.none()
    statements = Statement.objects.select_related("engineer", "provider")
    if not may_settle(actor):
        if not can(actor, Capability.VIEW_OWN_STATEMENTS):
            return Statement.objects.none()
        mine = Q(party_kind=PartyKind.ENGINEER, engineer=actor)
        if (
            actor.organisation_kind == OrganisationKind.PROVIDER
            and can(actor, Capability.ASSIGN_PROVIDER_ENGINEERS)
            and actor.organisation_id is not None
        ):
            mine |= Q(party_kind=PartyKind.PROVIDER, provider_id=actor.organisation_id)
        statements = statements.filter(mine)
    if status:
        statements = statements.filter(status=status)
    if party_kind:
        statements = statements.filter(party_kind=party_kind)
    if provider:
        statements = statements.filter(provider_id=provider)
    if engineer:
        statements = statements.filter(engineer_id=engineer)
    if period_from:
        statements = statements.filter(period_end__gte=period_from)
    if period_to:
        statements = statements.filter(period_start__lte=period_to)
    q = (q or "").strip()
    if q:
        statements = statements.filter(
            Q(number__icontains=q)
            | Q(provider__name__icontains=q)
            | Q(engineer__username__icontains=q)
            | Q(engineer__display_name__icontains=q)
        )
    return statements.order_by("-period_start", "party_kind", "pk")


def get_statement_for(actor: User, pk: int) -> Statement:
    return get_object_or_404(statements_for(actor), pk=pk)


def lines_of(statement: Statement) -> QuerySet[StatementLine]:
    return statement.lines.select_related("work_order").order_by("kind", "work_order__number", "pk")


def get_line_for(actor: User, pk: int) -> StatementLine:
    """A line of a statement `actor` may see (a pending adjustment: the manager only)."""
    lines = StatementLine.objects.select_related("statement", "work_order")
    visible = Q(statement__in=statements_for(actor))
    if may_settle(actor):
        visible |= Q(statement__isnull=True)
    return get_object_or_404(lines.filter(visible), pk=pk)


def pending_adjustments_for(actor: User) -> QuerySet[StatementLine]:
    if not may_settle(actor):
        return StatementLine.objects.none()
    return StatementLine.objects.filter(statement__isnull=True).select_related("work_order").order_by("-created_at")


def rules_for(actor: User, *, active: bool | None = None) -> QuerySet[SettlementRule]:
    if not may_settle(actor):
        return SettlementRule.objects.none()
    rules = SettlementRule.objects.select_related("provider", "team")
    if active is not None:
        rules = rules.filter(is_active=active)
    return rules


def get_rule_for(actor: User, pk: int) -> SettlementRule:
    return get_object_or_404(rules_for(actor), pk=pk)


def settled_order_for(actor: User, pk: int) -> WorkOrder:
    """An order on a statement, for an adjustment (the manager only)."""
    if not may_settle(actor):
        return get_object_or_404(WorkOrder.objects.none(), pk=pk)
    return get_object_or_404(WorkOrder.objects.filter(settlement_lines__kind="order").distinct(), pk=pk)


def providers() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=OrganisationKind.PROVIDER, is_active=True).order_by("name")


def teams() -> QuerySet[ServiceTeam]:
    return ServiceTeam.objects.order_by("name")
