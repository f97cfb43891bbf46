"""HTTP API of settlement (结算), under /api/v1/billing/: statements (scoped to the caller), their
generation, the party's confirm and dispute, the manager's correct, approve and settle,
adjustments after settlement, and the settlement rules."""

import datetime as dt
from decimal import Decimal

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import paginate

from fieldservice.billing import selectors
from fieldservice.billing.choices import PartyKind, SettlementBasis, StatementStatus
from fieldservice.billing.models import SettlementRule, Statement, StatementLine
from fieldservice.billing.permissions import may_settle, may_view_statements
from fieldservice.billing.services import settlement as services
from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.choices import ServiceType
from fieldservice.core.errors import require

router = Router(tags=["billing"])


class StatementLineOut(Schema):
    id: int
    kind: str
    work_order: int | None
    work_order_number: str | None
    description: str
    amount: Decimal
    original_amount: Decimal | None
    status: str
    dispute_reason: str
    correction_reason: str
    breakdown: list[dict]
    statement: int | None

    @staticmethod
    def resolve_work_order(obj) -> int | None:
        return obj.work_order_id

    @staticmethod
    def resolve_work_order_number(obj) -> str | None:
        return obj.work_order.number if obj.work_order_id else None

    @staticmethod
    def resolve_statement(obj) -> int | None:
        return obj.statement_id


class StatementOut(Schema):
    id: int
    number: str
    party_kind: str
    engineer: int | None
    provider: int | None
    party_name: str
    period_start: dt.date
    period_end: dt.date
    status: str
    currency: str
    total: Decimal
    order_count: int
    generated_at: dt.datetime
    confirmed_at: dt.datetime | None
    approved_at: dt.datetime | None
    settled_at: dt.datetime | None
    payment_reference: str

    @staticmethod
    def resolve_engineer(obj) -> int | None:
        return obj.engineer_id

    @staticmethod
    def resolve_provider(obj) -> int | None:
        return obj.provider_id

    @staticmethod
    def resolve_party_name(obj) -> str:
        return str(obj.party)


class StatementDetailOut(StatementOut):
    lines: list[StatementLineOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(selectors.lines_of(obj))


class StatementsGenerateIn(StrictSchema):
    period_start: dt.date
    period_end: dt.date


class StatementsGenerateOut(Schema):
    period_start: dt.date
    period_end: dt.date
    statements_created: int
    statements_touched: int
    orders_placed: int
    adjustments_placed: int
    orders_without_party: int
    total: Decimal
    statement_ids: list[int]


class StatementLineDisputeIn(StrictSchema):
    __columns__ = {"reason": (StatementLine, "dispute_reason")}
    reason: str


class StatementLineCorrectIn(StrictSchema):
    __columns__ = {"reason": (StatementLine, "correction_reason")}
    amount: Decimal | str
    reason: str


class StatementSettleIn(StrictSchema):
    __model__ = Statement
    payment_reference: str


class SettlementAdjustmentIn(StrictSchema):
    __columns__ = {"reason": (StatementLine, "description")}
    work_order: Id
    amount: Decimal | str
    reason: str


class SettlementRuleOut(Schema):
    id: int
    name: str
    provider: int | None
    team: int | None
    service_type: str
    basis: str
    rate: Decimal
    threshold: Decimal | None
    is_active: bool

    @staticmethod
    def resolve_provider(obj) -> int | None:
        return obj.provider_id

    @staticmethod
    def resolve_team(obj) -> int | None:
        return obj.team_id


class SettlementRuleIn(StrictSchema):
    __model__ = SettlementRule
    name: str
    basis: SettlementBasis
    rate: Decimal | str
    service_type: ServiceType | None = None
    provider: Id | None = None
    team: Id | None = None
    threshold: Decimal | str | None = None


class SettlementRulePatch(StrictSchema):
    __model__ = SettlementRule
    name: str | None = None
    basis: SettlementBasis | None = None
    rate: Decimal | str | None = None
    service_type: ServiceType | None = None
    provider: Id | None = None
    team: Id | None = None
    threshold: Decimal | str | None = None


def _require_view(request) -> None:
    require(may_view_statements(request.user))


def _detail(request, pk: int) -> Statement:
    return selectors.get_statement_for(request.user, pk)


# Statements -------------------------------------------------------------------------------------


@router.get("/statements", response=list[StatementOut])
@paginate(PageNumberPagination, page_size=50)
def list_statements(
    request,
    status: StatementStatus | None = None,
    party_kind: PartyKind | None = None,
    provider: Id | None = None,
    engineer: Id | None = None,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    q: str = "",
):
    """The caller's statements: all for the settlement manager, a provider's own for its
    administrator, an engineer's own for him."""
    _require_view(request)
    return selectors.statements_for(
        request.user,
        q=q[:100],
        status=status or "",
        party_kind=party_kind or "",
        provider=provider,
        engineer=engineer,
        period_from=period_from,
        period_to=period_to,
    )


@router.get("/statements/{int:statement_id}", response=StatementDetailOut)
def get_statement(request, statement_id: Id):
    return _detail(request, statement_id)


@router.post("/statements/generate", response=StatementsGenerateOut)
def generate_statements(request, payload: StatementsGenerateIn):
    """The statements of the period (local dates) for every party with orders closed in it and not
    yet on a statement; calling it again adds nothing."""
    summary = services.generate_statements(
        actor=request.user, period_start=payload.period_start, period_end=payload.period_end
    )
    return summary


@router.post("/statements/{int:statement_id}/confirm", response=StatementDetailOut)
def confirm_statement(request, statement_id: Id):
    services.confirm_statement(_detail(request, statement_id), actor=request.user)
    return _detail(request, statement_id)


@router.post("/statements/{int:statement_id}/approve", response=StatementDetailOut)
def approve_statement(request, statement_id: Id):
    services.approve_statement(_detail(request, statement_id), actor=request.user)
    return _detail(request, statement_id)


@router.post("/statements/{int:statement_id}/settle", response=StatementDetailOut)
def settle_statement(request, statement_id: Id, payload: StatementSettleIn):
    services.settle_statement(
        _detail(request, statement_id), actor=request.user, payment_reference=payload.payment_reference
    )
    return _detail(request, statement_id)


@router.post("/statement-lines/{int:line_id}/dispute", response=StatementLineOut)
def dispute_line(request, line_id: Id, payload: StatementLineDisputeIn):
    line = selectors.get_line_for(request.user, line_id)
    return services.dispute_line(line, actor=request.user, reason=payload.reason)


@router.post("/statement-lines/{int:line_id}/correct", response=StatementLineOut)
def correct_line(request, line_id: Id, payload: StatementLineCorrectIn):
    line = selectors.get_line_for(request.user, line_id)
    return services.correct_line(line, actor=request.user, amount=payload.amount, reason=payload.reason)


@router.get("/adjustments", response=list[StatementLineOut])
@paginate(PageNumberPagination, page_size=50)
def list_adjustments(request):
    """Adjustments waiting for the party's next statement (the settlement manager)."""
    require(may_settle(request.user))
    return selectors.pending_adjustments_for(request.user)


@router.post("/adjustments", response={201: StatementLineOut})
@idempotent
def create_adjustment(request, payload: SettlementAdjustmentIn):
    """A correction of an order whose statement is approved or settled: positive if the party is
    owed more, negative if it was paid too much; placed on its next statement."""
    require(may_settle(request.user))
    order = selectors.settled_order_for(request.user, payload.work_order)
    line = services.adjust_settled_order(order, actor=request.user, amount=payload.amount, reason=payload.reason)
    return 201, line


# Rules ------------------------------------------------------------------------------------------


def _rule_values(payload: StrictSchema, *, partial: bool) -> dict:
    values = payload.model_dump(exclude_unset=partial)
    if "provider" in values:
        values["provider"] = (
            get_object_or_404(selectors.providers(), pk=values["provider"]) if values["provider"] else None
        )
    if "team" in values:
        values["team"] = get_object_or_404(selectors.teams(), pk=values["team"]) if values["team"] else None
    if "service_type" in values:
        values["service_type"] = values["service_type"] or ""
    return values


@router.get("/settlement-rules", response=list[SettlementRuleOut])
@paginate(PageNumberPagination, page_size=50)
def list_rules(request, active: bool | None = None):
    require(may_settle(request.user))
    return selectors.rules_for(request.user, active=active)


@router.post("/settlement-rules", response={201: SettlementRuleOut})
@idempotent
def create_rule(request, payload: SettlementRuleIn):
    require(may_settle(request.user))
    return 201, services.create_rule(actor=request.user, **_rule_values(payload, partial=False))


@router.get("/settlement-rules/{int:rule_id}", response=SettlementRuleOut)
def get_rule(request, rule_id: Id):
    require(may_settle(request.user))
    return selectors.get_rule_for(request.user, rule_id)


@router.patch("/settlement-rules/{int:rule_id}", response=SettlementRuleOut)
def update_rule(request, rule_id: Id, payload: SettlementRulePatch):
    require(may_settle(request.user))
    rule = selectors.get_rule_for(request.user, rule_id)
    return services.update_rule(rule, actor=request.user, **_rule_values(payload, partial=True))


@router.post("/settlement-rules/{int:rule_id}/deactivate", response=SettlementRuleOut)
def deactivate_rule(request, rule_id: Id):
    require(may_settle(request.user))
    return services.deactivate_rule(selectors.get_rule_for(request.user, rule_id), actor=request.user)
