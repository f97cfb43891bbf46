"""The demo's history is priced (issue 14): quotations, bills, payments, invoice requests,
statements and margins exist for it, and the walk-through's starting points are there: a warranty
order at zero for the customer with its internal cost, last month's provider statement with a
disputed line, an open chargeable repair without a quotation. One small demo for the module,
rolled back after; its history is two months, so last month holds enough orders."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum

from fieldservice.accounts.choices import EngineerLevel
from fieldservice.accounts.models import EngineerProfile
from fieldservice.billing.choices import (
    BillStatus,
    DecisionChannel,
    FeeSource,
    PartyKind,
    Payer,
    PaymentMethod,
    QuotationStatus,
    StatementLineKind,
    StatementLineStatus,
    StatementStatus,
)
from fieldservice.billing.models import (
    Bill,
    FeeLine,
    InvoiceRequest,
    OnlinePayment,
    OrderMargin,
    Payment,
    Quotation,
    SettlementRule,
    Statement,
    StatementLine,
)
from fieldservice.contracts.choices import Entitlement, PriceItemKind
from fieldservice.contracts.models import PriceList
from fieldservice.core.models import Event
from fieldservice.workorders.models import WorkOrder


@pytest.fixture(scope="module")
def money_demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("load_demo", scale=0.1, orders=80, history_days=60, stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def test_engineers_have_levels_and_the_price_list_prices_by_level_type_zone_and_item(money_demo, db):
    levels = set(EngineerProfile.objects.values_list("level", flat=True))
    assert EngineerLevel.EXPERT in levels and len(levels) >= 2
    items = PriceList.objects.get(is_default=True).items
    labour = items.filter(kind=PriceItemKind.LABOUR_HOUR).exclude(service_type="").exclude(engineer_level="")
    assert labour.count() >= 8
    assert items.filter(kind=PriceItemKind.TRAVEL_KM).exists()
    assert items.filter(kind=PriceItemKind.TRAVEL_ZONE, area__isnull=False).exists()
    assert items.filter(kind=PriceItemKind.SERVICE).count() >= 2
    assert SettlementRule.objects.filter(provider__isnull=False).count() >= 3
    assert SettlementRule.objects.filter(provider__isnull=True, team__isnull=True).exists()


def test_every_completed_order_is_priced_and_has_its_margin(money_demo, db):
    done = WorkOrder.objects.filter(status__in=["completed", "closed"])
    assert done.count() >= 20
    priced = set(FeeLine.objects.values_list("work_order_id", flat=True))
    assert set(done.values_list("pk", flat=True)) <= priced
    assert set(OrderMargin.objects.values_list("work_order_id", flat=True)) >= priced


def test_a_warranty_order_is_free_for_the_customer_with_its_internal_cost(money_demo, db):
    found = False
    for order in WorkOrder.objects.filter(entitlement=Entitlement.WARRANTY, status="closed"):
        lines = FeeLine.objects.filter(work_order=order, is_void=False)
        if not lines.exists():
            continue
        assert not lines.filter(payer=Payer.CUSTOMER).exists(), order
        assert not Bill.objects.filter(work_order=order).exists()
        if lines.aggregate(cost=Sum("cost"))["cost"] > 0:
            found = True
    assert found
    assert "warranty order priced at zero for the customer: WO" in money_demo


def test_quotations_are_versioned_decided_through_the_follow_link_or_expired(money_demo, db):
    statuses = set(Quotation.objects.values_list("status", flat=True))
    assert QuotationStatus.APPROVED in statuses
    assert Quotation.objects.filter(version__gte=2).exists()
    approved = Quotation.objects.filter(status=QuotationStatus.APPROVED)
    assert set(approved.values_list("decided_via", flat=True)) == {DecisionChannel.FOLLOW_LINK}
    for quotation in approved:
        assert FeeLine.objects.filter(work_order=quotation.work_order, source=FeeSource.QUOTATION).exists()
    for quotation in Quotation.objects.filter(status=QuotationStatus.DECLINED):
        assert quotation.decline_reason
    # Awaiting the customer: only on orders still open, and still valid.
    for quotation in Quotation.objects.filter(status=QuotationStatus.SENT).select_related("work_order"):
        assert quotation.work_order.status not in ("closed", "cancelled")


def test_closed_chargeable_orders_have_bills_payments_and_receivables(money_demo, db):
    bills = Bill.objects.all()
    assert bills.count() >= 10
    assert not bills.filter(status=BillStatus.DRAFT).exists()
    for bill in bills.select_related("work_order"):
        assert bill.work_order.status == "closed"
        assert bill.work_order.entitlement != Entitlement.WARRANTY or bill.total > 0
    assert bills.filter(status=BillStatus.PAID).count() >= bills.count() // 3  # a recent history: some not due
    assert bills.filter(status__in=[BillStatus.ISSUED, BillStatus.PARTLY_PAID]).exists()
    methods = set(Payment.objects.values_list("method", flat=True))
    assert PaymentMethod.BANK_TRANSFER in methods and len(methods) >= 3
    assert OnlinePayment.objects.filter(gateway="sandbox", status="succeeded").exists()
    for bill in bills.filter(status=BillStatus.PAID):
        assert bill.payments.aggregate(total=Sum("amount"))["total"] == bill.total
    assert InvoiceRequest.objects.exists()
    assert Event.objects.filter(action="bill_issued").count() == bills.count()


def test_past_months_are_settled_and_last_months_provider_statement_has_a_disputed_line(money_demo, db):
    assert Statement.objects.filter(status=StatementStatus.SETTLED).exclude(payment_reference="").exists()
    disputed = Statement.objects.get(party_kind=PartyKind.PROVIDER, status=StatementStatus.DISPUTED)
    line = disputed.lines.get(status=StatementLineStatus.DISPUTED)
    assert line.dispute_reason and line.kind == StatementLineKind.ORDER
    assert disputed.period_end == max(Statement.objects.values_list("period_end", flat=True))
    # Every order's settlement line is on exactly one statement.
    orders = StatementLine.objects.filter(kind=StatementLineKind.ORDER).values_list("work_order_id", flat=True)
    assert len(orders) == len(set(orders))
    assert "disputed line" in money_demo and disputed.number in money_demo


def test_the_walk_through_has_an_open_chargeable_repair_without_a_quotation(money_demo, db):
    open_repairs = WorkOrder.objects.filter(
        status__in=["new", "dispatched", "accepted"], entitlement=Entitlement.CHARGEABLE, service_type="repair"
    ).exclude(pk__in=Quotation.objects.values("work_order_id"))
    assert open_repairs.exists()
    assert "open chargeable repair without a quotation: WO" in money_demo
    for what in ("quotations", "bills", "payments", "statements"):
        assert f" {what}" in money_demo
