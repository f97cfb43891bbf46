"""`billing.services.margins.refresh`: one row per order, its revenue (what the customer pays,
never a voided line), its costs by kind, what the order's settlement costs, the day it counts for,
and who did it (the lead engineer and his provider)."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from fieldservice.billing.choices import FeeKind, FeeSource, PartyKind, Payer, StatementLineKind
from fieldservice.billing.models import FeeLine, OrderMargin, Statement, StatementLine
from fieldservice.billing.services import margins
from fieldservice.dispatch.assignments.services import (
    accept_assignment,
    assign_provider_engineer,
    dispatch_to_provider,
    revoke_assignment,
)
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.lifecycle import close_work_order
from tests import factories
from tests.billing.conftest import complete

D = Decimal


def fee(order, kind, amount="0", cost="0", *, payer=Payer.CUSTOMER, void=False, part=None, currency="CNY"):
    return FeeLine.objects.create(
        work_order=order,
        kind=kind,
        description=f"{kind} line",
        part=part,
        amount=D(amount),
        unit_price=D(amount),
        cost=D(cost),
        unit_cost=D(cost),
        payer=payer,
        source=FeeSource.OFFICE,
        is_void=void,
        void_reason="wrong" if void else "",
        currency=currency,
    )


def statement(*, engineer=None, provider=None, number="ST-1"):
    kind = PartyKind.ENGINEER if engineer is not None else PartyKind.PROVIDER
    key = f"e{engineer.pk}" if engineer is not None else f"p{provider.pk}"
    today = timezone.localdate()
    return Statement.objects.create(
        number=number,
        party_kind=kind,
        engineer=engineer,
        provider=provider,
        party_key=key,
        period_start=today.replace(day=1),
        period_end=today,
    )


def settle(order, amount, *, on, kind=StatementLineKind.ORDER):
    return StatementLine.objects.create(
        statement=on,
        party_key=on.party_key if on is not None else "",
        kind=kind,
        work_order=order,
        amount=D(amount),
    )


def row(order) -> OrderMargin:
    margins.refresh([order.pk])
    return OrderMargin.objects.get(work_order=order)


def test_revenue_counts_only_what_the_customer_pays_on_live_lines(visit):
    p = visit
    fee(p.order, FeeKind.LABOUR, "500.00", "180.00")
    fee(p.order, FeeKind.PART, "1200.00", "700.00", part=p.motor)
    # Free to the customer: costs count, revenue does not.
    fee(p.order, FeeKind.PART, "91.00", "40.00", part=p.seal, payer=Payer.WARRANTY)
    fee(p.order, FeeKind.SERVICE, "800.00", "300.00", payer=Payer.CONTRACT)
    # Voided: neither.
    fee(p.order, FeeKind.TRAVEL, "999.00", "555.00", void=True)

    margin = row(p.order)

    assert margin.revenue == D("1700.00")
    assert margin.labour_cost == D("180.00")
    assert margin.parts_cost == D("740.00")
    assert margin.travel_cost == D("0")
    assert margin.other_cost == D("300.00")
    assert margin.settlement_cost == D("0")
    assert margin.cost == D("1220.00")
    assert margin.margin == D("480.00")
    assert margin.customer_id == p.order.customer_id
    assert margin.currency == "CNY"


def test_each_kind_of_cost_has_its_figure(visit):
    p = visit
    fee(p.order, FeeKind.LABOUR, "0", "10.00")
    fee(p.order, FeeKind.TRAVEL, "0", "20.00")
    fee(p.order, FeeKind.TRAVEL, "0", "5.50")
    fee(p.order, FeeKind.PART, "0", "40.00", part=p.seal)
    fee(p.order, FeeKind.SERVICE, "0", "80.00")
    fee(p.order, FeeKind.OTHER, "0", "160.00")

    margin = row(p.order)

    assert (margin.labour_cost, margin.travel_cost, margin.parts_cost, margin.other_cost) == (
        D("10.00"),
        D("25.50"),
        D("40.00"),
        D("240.00"),
    )
    assert margin.revenue == D("0")
    assert margin.margin == D("-315.50")


def test_settlement_lines_are_a_cost_adjustments_included(visit, personas):
    p = visit
    fee(p.order, FeeKind.LABOUR, "600.00", "0")
    paid_to_engineer = statement(engineer=p.engineer)
    settle(p.order, "250.00", on=paid_to_engineer)
    # A correction after settlement waits for the next statement: it is already what the order costs.
    settle(p.order, "-30.00", on=None, kind=StatementLineKind.ADJUSTMENT)
    # Another order's line is not this order's cost.
    other = factories.work_order(p.customer_cn, actor=p.agent)
    settle(other, "999.00", on=paid_to_engineer)

    margin = row(p.order)

    assert margin.settlement_cost == D("220.00")
    assert margin.margin == D("380.00")
    assert OrderMargin.objects.filter(work_order=other).count() == 0, "only the orders asked for are refreshed"


def test_a_line_voided_later_leaves_the_figures_on_refresh(visit):
    p = visit
    line = fee(p.order, FeeKind.PART, "1200.00", "700.00", part=p.motor)
    assert row(p.order).revenue == D("1200.00")
    FeeLine.objects.filter(pk=line.pk).update(is_void=True)

    margin = row(p.order)

    assert (margin.revenue, margin.parts_cost, margin.margin) == (D("0"), D("0"), D("0"))
    assert OrderMargin.objects.filter(work_order=p.order).count() == 1


def test_an_order_without_lines_has_a_zero_row(visit):
    p = visit
    margin = row(p.order)
    assert (margin.revenue, margin.cost, margin.margin) == (D("0"), D("0"), D("0"))
    assert margin.booked_on == timezone.localdate(p.order.created_at)


def test_booked_on_is_closed_else_completed_else_created(visit):
    p = visit
    created = timezone.make_aware(dt.datetime(2026, 3, 1, 23, 30))
    completed = timezone.make_aware(dt.datetime(2026, 3, 5, 10, 0))
    closed = timezone.make_aware(dt.datetime(2026, 4, 2, 0, 15))
    WorkOrder.objects.filter(pk=p.order.pk).update(created_at=created, completed_at=None, closed_at=None)
    assert row(p.order).booked_on == dt.date(2026, 3, 1)
    WorkOrder.objects.filter(pk=p.order.pk).update(completed_at=completed)
    assert row(p.order).booked_on == dt.date(2026, 3, 5)
    WorkOrder.objects.filter(pk=p.order.pk).update(closed_at=closed)
    # The local day (Asia/Shanghai), not UTC's.
    assert row(p.order).booked_on == timezone.localdate(closed) == dt.date(2026, 4, 2)


def test_the_walked_visit_books_on_its_completion_then_its_closing(visit):
    p = visit
    order = complete(p)
    assert row(order).booked_on == timezone.localdate(order.completed_at)
    WorkOrder.objects.filter(pk=order.pk).update(completed_at=order.completed_at - dt.timedelta(days=3))
    margins.refresh([order.pk])

    # Closing moves the row to the closing day by itself (the move's hook), no line changed.
    close_work_order(order, actor=p.agent)

    order.refresh_from_db()
    assert OrderMargin.objects.get(work_order=order).booked_on == timezone.localdate(order.closed_at)
    assert timezone.localdate(order.closed_at) != timezone.localdate(order.completed_at)


def test_a_move_makes_no_row_for_an_order_without_one(visit):
    p = visit
    order = complete(p)
    close_work_order(order, actor=p.agent)
    assert not OrderMargin.objects.filter(work_order=order).exists()


def test_the_lead_engineer_is_named_an_own_engineer_has_no_provider(visit):
    p = visit
    accept_assignment(p.assignment, actor=p.engineer)
    margin = row(p.order)
    assert margin.engineer_id == p.engineer.pk
    assert margin.provider_id is None


def test_a_revoked_lead_is_not_the_engineer(visit):
    p = visit
    revoke_assignment(p.assignment, actor=p.dispatcher, reason="sick")
    assert row(p.order).engineer_id is None


def test_a_provider_order_names_the_provider_and_its_engineer(personas):
    p = personas
    order = factories.work_order(p.customer_a, actor=p.agent)
    assignment = dispatch_to_provider(order, actor=p.dispatcher, provider=p.provider)
    margin = row(order)
    assert (margin.provider_id, margin.engineer_id) == (p.provider.pk, None)

    assign_provider_engineer(assignment, actor=p.provider_admin, engineer=p.provider_engineer)

    margin = row(order)
    assert (margin.provider_id, margin.engineer_id) == (p.provider.pk, p.provider_engineer.pk)


def test_refresh_keeps_the_contract_and_many_orders_at_once(visit):
    p = visit
    contract = factories.contract(p.customer_cn, machines=[p.other_machine], actor=p.admin, activate=True)
    orders = [factories.work_order(p.customer_cn, actor=p.agent, equipment=p.other_machine) for _ in range(3)]
    for index, order in enumerate(orders):
        fee(order, FeeKind.LABOUR, f"{100 * (index + 1)}.00", "10.00")

    margins.refresh([order.pk for order in orders] + [orders[0].pk])

    rows = {m.work_order_id: m for m in OrderMargin.objects.filter(work_order__in=orders)}
    assert [rows[order.pk].revenue for order in orders] == [D("100.00"), D("200.00"), D("300.00")]
    assert {rows[order.pk].contract_id for order in orders} == {contract.pk}


def test_the_currency_is_the_lines_currency(visit):
    p = visit
    fee(p.order, FeeKind.LABOUR, "100.00", "10.00", currency="USD")
    assert row(p.order).currency == "USD"
