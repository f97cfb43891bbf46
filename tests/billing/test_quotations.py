"""Quotations: versions, pricing from the price list, decisions by every channel, refusals that
write nothing, fee lines from the approved version, expiry."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from fieldservice.accounts.choices import Role
from fieldservice.billing import selectors
from fieldservice.billing.choices import BillStatus, DecisionChannel, FeeKind, FeeSource, Payer, QuotationStatus
from fieldservice.billing.models import Bill, FeeLine, OrderMargin, Quotation, QuotationLine, QuotationVersion
from fieldservice.billing.services import quotations as q
from fieldservice.billing.services.pricing import labour_cost_per_hour
from fieldservice.contracts.choices import PriceItemKind
from fieldservice.contracts.models import PriceListItem
from fieldservice.core.errors import DomainError
from fieldservice.core.models import Event
from fieldservice.inventory.models import Part
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from tests import factories
from tests.billing.conftest import accept, png_file


def _today():
    return timezone.localdate()


def _lines(p, *, discount="0"):
    return [
        {"kind": FeeKind.PART, "part": p.motor, "quantity": "1"},  # 1200.00 from the price list
        {"kind": FeeKind.LABOUR, "description": "Repair labour", "quantity": "2"},  # 200/h, no level
        {"kind": FeeKind.SERVICE, "description": "Hydraulic flush", "quantity": "1", "discount": discount},
    ]


def _quote(p, **overrides):
    fields = {
        "actor": p.agent,
        "lines": _lines(p),
        "valid_until": _today() + dt.timedelta(days=14),
        "tax_rate": "13",
        "note": "报价说明",
    }
    fields.update(overrides)
    return q.create_quotation(p.order, **fields)


def _counts():
    return (
        Quotation.objects.count(),
        QuotationVersion.objects.count(),
        QuotationLine.objects.count(),
        FeeLine.objects.count(),
        Event.objects.count(),
    )


@pytest.fixture
def quote(prices):
    p = prices
    Part.objects.filter(pk=p.motor.pk).update(average_cost=Decimal("700.0000"))
    p.motor.refresh_from_db()
    p.quotation = _quote(p)
    return p


def test_create_prices_lines_from_the_price_list_and_totals(quote):
    p = quote
    version = selectors.version_of(p.quotation, 1)
    lines = list(version.lines.order_by("position"))
    assert [line.unit_price for line in lines] == [Decimal("1200.00"), Decimal("200.00"), Decimal("800.00")]
    assert lines[0].description == "伺服电机" and lines[0].cost == Decimal("700.00")
    assert lines[1].unit == "h" and lines[1].amount == Decimal("400.00")
    assert version.subtotal == Decimal("2400.00")
    assert version.tax == Decimal("312.00")
    assert version.total == Decimal("2712.00")
    # Parts at their average cost, two hours of our own labour at its internal rate.
    assert version.profit == Decimal("1700.00") - 2 * labour_cost_per_hour("regular")
    assert p.quotation.status == QuotationStatus.DRAFT and p.quotation.version == 1
    assert p.quotation.number.startswith(f"QT{_today().year}-")
    assert Event.objects.filter(object_pk=str(p.quotation.pk), action="created").exists()


def test_tax_is_rounded_to_the_cent_after_discounts(prices):
    p = prices
    lines = [
        {"kind": FeeKind.OTHER, "description": "Lodging", "quantity": "1", "unit_price": "99.99", "discount": "0.04"}
    ]
    version = selectors.version_of(_quote(p, lines=lines, tax_rate="6"))
    assert version.subtotal == Decimal("99.99") and version.discount == Decimal("0.04")
    assert version.tax == Decimal("6.00")  # 6 % of 99.95 = 5.997
    assert version.total == Decimal("105.95")


def test_labour_takes_the_engineers_level_and_the_service_type(prices):
    p = prices
    p.engineer.engineer_profile.level = "senior"
    p.engineer.engineer_profile.save()
    p.order.service_type = "repair"
    p.order.save(update_fields=["service_type"])
    PriceListItem.objects.create(
        price_list=p.price_list, kind=PriceItemKind.TRAVEL_KM, engineer_level="senior", unit_price=Decimal("5.00")
    )
    quotation = _quote(
        p,
        lines=[
            {"kind": FeeKind.LABOUR, "description": "Labour", "quantity": "1"},
            {"kind": FeeKind.TRAVEL, "description": "Travel", "quantity": "10"},
        ],
    )
    lines = selectors.version_of(quotation).lines.order_by("position")
    assert [line.unit_price for line in lines] == [Decimal("300.00"), Decimal("5.00")]


def test_revise_makes_a_new_version_and_keeps_the_old_one(quote):
    p = quote
    version = q.revise_quotation(
        p.quotation,
        actor=p.agent,
        lines=_lines(p, discount="100.00"),
        valid_until=_today() + dt.timedelta(days=30),
        tax_rate="13",
        note="Discount agreed",
    )
    p.quotation.refresh_from_db()
    assert version.number == 2 and p.quotation.version == 2
    assert selectors.version_of(p.quotation, 1).total == Decimal("2712.00")
    assert selectors.version_of(p.quotation, 2).total == Decimal("2599.00")  # (2400 − 100) × 1.13
    assert p.quotation.total == Decimal("2599.00")
    assert Event.objects.filter(object_pk=str(p.quotation.pk), action="quotation_revised").exists()


def test_approve_current_version_makes_fee_lines(quote):
    p = quote
    q.send_quotation(p.quotation, actor=p.agent)
    q.approve_quotation(p.quotation, version=1, actor=p.agent, channel=DecisionChannel.DESK)
    p.quotation.refresh_from_db()
    assert p.quotation.status == QuotationStatus.APPROVED and p.quotation.decided_version == 1
    fees = list(FeeLine.objects.filter(work_order=p.order).order_by("pk"))
    assert [(f.kind, f.amount) for f in fees] == [
        (FeeKind.PART, Decimal("1200.00")),
        (FeeKind.LABOUR, Decimal("400.00")),
        (FeeKind.SERVICE, Decimal("800.00")),
    ]
    assert all(f.source == FeeSource.QUOTATION and f.payer == Payer.CUSTOMER for f in fees)
    assert all(f.quotation_id == p.quotation.pk for f in fees)
    margin = OrderMargin.objects.get(work_order=p.order)
    assert margin.revenue == Decimal("2400.00") and margin.parts_cost == Decimal("700.00")
    assert Event.objects.filter(object_pk=str(p.quotation.pk), action="quotation_approved").exists()


def test_approve_a_replaced_version_is_refused_and_writes_nothing(quote):
    p = quote
    q.send_quotation(p.quotation, actor=p.agent)
    q.revise_quotation(
        p.quotation, actor=p.agent, lines=_lines(p), valid_until=_today() + dt.timedelta(days=5), tax_rate="9"
    )
    before = _counts()
    with pytest.raises(DomainError) as error:
        q.approve_quotation(
            p.quotation,
            version=1,
            channel=DecisionChannel.FOLLOW_LINK,
            follow_token=p.order.request.follow_token,
        )
    assert error.value.code == "quotation_replaced"
    assert "version 2" in error.value.message
    assert _counts() == before
    p.quotation.refresh_from_db()
    assert p.quotation.status == QuotationStatus.SENT


def test_approve_after_valid_until_is_refused_and_writes_nothing(quote):
    p = quote
    q.send_quotation(p.quotation, actor=p.agent)
    Quotation.objects.filter(pk=p.quotation.pk).update(valid_until=_today() - dt.timedelta(days=1))
    before = _counts()
    with pytest.raises(DomainError) as error:
        q.approve_quotation(p.quotation, version=1, actor=p.agent, channel=DecisionChannel.DESK)
    assert error.value.code == "quotation_expired"
    assert _counts() == before


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (QuotationStatus.EXPIRED, "quotation_expired"),
        (QuotationStatus.VOID, "quotation_void"),
        (QuotationStatus.DECLINED, "quotation_declined"),
        (QuotationStatus.APPROVED, "quotation_approved"),
    ],
)
def test_approve_a_closed_quotation_is_refused(quote, status, code):
    p = quote
    Quotation.objects.filter(pk=p.quotation.pk).update(status=status)
    before = _counts()
    with pytest.raises(DomainError) as error:
        q.approve_quotation(p.quotation, version=1, actor=p.agent, channel=DecisionChannel.DESK)
    assert error.value.code == code
    assert _counts() == before


def test_approve_on_a_cancelled_order_is_refused(quote):
    p = quote
    WorkOrder.objects.filter(pk=p.order.pk).update(status=WorkOrderStatus.CANCELLED)
    before = _counts()
    with pytest.raises(DomainError) as error:
        q.approve_quotation(p.quotation, version=1, actor=p.agent, channel=DecisionChannel.DESK)
    assert error.value.code == "order_finished"
    assert _counts() == before


def test_decline_records_the_reason(quote):
    p = quote
    q.send_quotation(p.quotation, actor=p.agent)
    q.decline_quotation(
        p.quotation,
        version=1,
        reason="太贵了",
        channel=DecisionChannel.FOLLOW_LINK,
        follow_token=p.order.request.follow_token,
    )
    p.quotation.refresh_from_db()
    assert p.quotation.status == QuotationStatus.DECLINED
    assert p.quotation.decline_reason == "太贵了"
    assert p.quotation.decided_via == DecisionChannel.FOLLOW_LINK and p.quotation.decided_by is None
    assert not FeeLine.objects.exists()
    event = Event.objects.get(object_pk=str(p.quotation.pk), action="quotation_declined")
    assert event.changes["decline_reason"] == [None, "太贵了"]


def test_decline_needs_a_reason(quote):
    p = quote
    q.send_quotation(p.quotation, actor=p.agent)
    before = _counts()
    with pytest.raises(ValidationError) as error:
        q.decline_quotation(p.quotation, version=1, reason="  ", actor=p.agent, channel=DecisionChannel.DESK)
    assert "reason" in error.value.error_dict
    assert _counts() == before


def test_follow_link_needs_the_orders_token_and_a_sent_quotation(quote):
    p = quote
    other_request = factories.service_request(p.customer_cn, actor=p.agent, description="another")
    before = _counts()
    with pytest.raises(DomainError) as error:  # a draft is not the customer's yet
        q.approve_quotation(
            p.quotation, version=1, channel=DecisionChannel.FOLLOW_LINK, follow_token=p.order.request.follow_token
        )
    assert error.value.code == "quotation_not_sent"
    q.send_quotation(p.quotation, actor=p.agent)
    before = _counts()
    for token in (other_request.follow_token, "", "x" * 32):
        with pytest.raises(PermissionDenied):
            q.approve_quotation(p.quotation, version=1, channel=DecisionChannel.FOLLOW_LINK, follow_token=token)
    assert _counts() == before


def test_engineer_gets_the_customer_to_sign_on_the_phone(quote):
    p = quote
    accept(p)
    quotation = p.quotation
    q.approve_quotation(
        quotation,
        version=1,
        actor=p.engineer,
        channel=DecisionChannel.PHONE,
        signer_name="王经理",
        signature=png_file("sig.png"),
    )
    quotation.refresh_from_db()
    assert quotation.status == QuotationStatus.APPROVED
    assert quotation.signer_name == "王经理" and quotation.signature.kind == "signature"
    assert FeeLine.objects.filter(quotation=quotation).count() == 3


def test_a_blank_signature_is_refused_and_writes_nothing(quote):
    p = quote
    accept(p)
    before = _counts()
    with pytest.raises(ValidationError) as error:
        q.approve_quotation(
            p.quotation,
            version=1,
            actor=p.engineer,
            channel=DecisionChannel.PHONE,
            signer_name="王经理",
            signature=png_file("sig.png", ink=False),
        )
    assert "signature" in error.value.error_dict
    assert _counts() == before


def test_engineer_on_the_order_writes_a_quotation_others_may_not(prices):
    p = prices
    with pytest.raises(PermissionDenied):  # offered, not accepted yet
        _quote(p, actor=p.engineer)
    accept(p)
    assert _quote(p, actor=p.engineer).created_by == p.engineer
    for outsider in (p.other_engineer, p.dispatcher, p.customer_user_a, p.provider_admin):
        with pytest.raises(PermissionDenied):
            q.void_quotation(Quotation.objects.get(), actor=outsider, reason="no")


def test_one_open_quotation_per_order(quote):
    p = quote
    before = _counts()
    with pytest.raises(DomainError) as error:
        _quote(p)
    assert error.value.code == "quotation_open"
    assert _counts() == before


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"lines": []}, "lines", "required"),
        ({"tax_rate": "101"}, "tax_rate", "out_of_range"),
        ({"tax_rate": "-1"}, "tax_rate", "out_of_range"),
        ({"tax_rate": "abc"}, "tax_rate", "invalid"),
        ({"valid_until": dt.date(2020, 1, 1)}, "valid_until", "past"),
        ({"valid_until": "31/12/2026"}, "valid_until", "invalid"),
    ],
)
def test_bad_quotation_fields_name_the_field_and_write_nothing(prices, change, field, code):
    p = prices
    before = _counts()
    with pytest.raises(ValidationError) as error:
        _quote(p, **change)
    assert error.value.error_dict[field][0].code == code
    assert _counts() == before


@pytest.mark.parametrize(
    ("line", "field", "code"),
    [
        ({"discount": "800.01"}, "lines[2].discount", "above_line"),
        ({"unit_price": "-5"}, "lines[2].unit_price", "negative"),
        ({"unit_price": "1e20"}, "lines[2].unit_price", "invalid"),
        ({"quantity": "0"}, "lines[2].quantity", "not_positive"),
        ({"quantity": "99999999"}, "lines[2].quantity", "invalid"),
        ({"kind": "gift"}, "lines[2].kind", "invalid_choice"),
        ({"description": "Unknown item"}, "lines[2].unit_price", "required"),
        ({"kind": FeeKind.PART}, "lines[2].part", "required"),
        ({"discount": "-1"}, "lines[2].discount", "negative"),
        ({"colour": "red"}, "lines[2].colour", "unknown_field"),
    ],
)
def test_bad_lines_name_the_line_and_field_and_write_nothing(prices, line, field, code):
    p = prices
    lines = _lines(p)
    lines[2] = {**lines[2], **line}
    before = _counts()
    with pytest.raises(ValidationError) as error:
        _quote(p, lines=lines)
    assert error.value.error_dict[field][0].code == code
    assert _counts() == before


def test_revise_and_send_refused_once_decided(quote):
    p = quote
    q.void_quotation(p.quotation, actor=p.agent, reason="Customer cancelled")
    before = _counts()
    with pytest.raises(DomainError) as error:
        q.revise_quotation(
            p.quotation, actor=p.agent, lines=_lines(p), valid_until=_today() + dt.timedelta(days=3), tax_rate="13"
        )
    assert error.value.code == "quotation_void"
    with pytest.raises(DomainError):
        q.send_quotation(p.quotation, actor=p.agent)
    assert _counts() == before


def test_expiry_check_expires_sent_quotations_once(quote):
    p = quote
    q.send_quotation(p.quotation, actor=p.agent)
    later = _today() + dt.timedelta(days=15)
    assert q.expire_quotations(_today()) == {"expired": 0}
    assert q.expire_quotations(later) == {"expired": 1}
    assert q.expire_quotations(later) == {"expired": 0}
    p.quotation.refresh_from_db()
    assert p.quotation.status == QuotationStatus.EXPIRED
    assert Event.objects.filter(object_pk=str(p.quotation.pk), action="quotation_expired").count() == 1


def test_expiry_task_is_registered():
    from fieldservice.core import periodic

    assert periodic.CHECKS["billing.expire_quotations"][0] == "fieldservice.billing.tasks.expire_quotations"


def test_author_context_last_prices_receivables_and_profit(quote):
    p = quote
    q.send_quotation(p.quotation, actor=p.agent)
    q.approve_quotation(p.quotation, version=1, actor=p.agent, channel=DecisionChannel.DESK)
    Bill.objects.create(
        number="BL-1",
        work_order=p.order,
        customer=p.customer_cn,
        status=BillStatus.PARTLY_PAID,
        total=Decimal("1000.00"),
        paid=Decimal("400.00"),
    )
    other = factories.service_request(p.customer_cn, actor=p.agent, description="second")
    from fieldservice.workorders.services.intake import create_work_order

    second = create_work_order(other, actor=p.agent)
    p.order = second
    new = _quote(p)
    context = selectors.author_context(p.customer_cn, selectors.version_of(new))
    assert context["last_prices"][0][0]["unit_price"] == Decimal("1200.00")
    assert context["last_prices"][1][0]["order_number"] == p.quotation.work_order.number
    assert context["receivables"] == {"CNY": Decimal("600.00")}
    assert context["profit"]["profit"] == Decimal("1700.00") - 2 * labour_cost_per_hour("regular")
    # A quotation's own approved lines are not "earlier" prices of it.
    assert selectors.author_context(p.customer_cn, selectors.version_of(p.quotation))["last_prices"][0] == []
    # Another customer's prices are not his.
    assert selectors.last_prices(p.customer_z, part=p.motor) == []


def test_customers_see_only_their_companys_sent_quotations(quote):
    p = quote
    customer_user = factories.user(Role.CUSTOMER, organisation=p.customer_cn.organisation, username="cn_user")
    assert not selectors.quotations_for(customer_user).exists()  # a draft is not shown
    q.send_quotation(p.quotation, actor=p.agent)
    assert list(selectors.quotations_for(customer_user)) == [p.quotation]
    assert not selectors.quotations_for(p.customer_user_z).exists()
    assert not selectors.quotations_for(p.other_engineer).exists()
    assert list(selectors.quotations_for(p.engineer)) == [p.quotation]


def test_the_visit_is_not_priced_again_for_what_the_approved_quotation_prices(quote):
    """The quotation names the motor and two hours of labour; on completion the visit adds only
    the seals the quotation did not name, and no call-out fee on top of the agreed price."""
    from tests.billing.conftest import complete

    p = quote
    q.send_quotation(p.quotation, actor=p.agent)
    q.approve_quotation(p.quotation, version=1, actor=p.agent, channel=DecisionChannel.DESK)
    order = complete(p)

    live = FeeLine.objects.filter(work_order=order, is_void=False)
    assert sorted(live.filter(source=FeeSource.QUOTATION).values_list("kind", flat=True)) == sorted(
        [FeeKind.PART, FeeKind.LABOUR, FeeKind.SERVICE]
    )
    auto = list(live.filter(source=FeeSource.AUTO))
    assert [(line.kind, line.part_id) for line in auto] == [(FeeKind.PART, p.seal.pk)]
    assert auto[0].amount == Decimal("91.00")  # two seals at 45.50
    assert not live.filter(kind=FeeKind.LABOUR, source=FeeSource.AUTO).exists()
    assert not live.filter(description="Call-out fee").exists()


def test_the_bill_charges_the_approved_quotation_with_its_tax(quote):
    """The customer approved a total with 13 % tax; his bill asks that total (and the seals the
    quotation did not name, priced from the visit without tax), never the lines without their tax."""
    from fieldservice.billing.services import charges
    from tests.billing.conftest import complete

    p = quote
    q.send_quotation(p.quotation, actor=p.agent)
    q.approve_quotation(p.quotation, version=1, actor=p.agent, channel=DecisionChannel.DESK)
    approved = selectors.version_of(p.quotation, 1)
    order = complete(p)

    bill = charges.draft_bill(order, actor=p.agent)
    assert bill.tax == approved.tax == Decimal("312.00")
    assert bill.total == approved.total + Decimal("91.00")  # two seals at 45.50, untaxed
    assert sorted(bill.lines.values_list("tax_rate", flat=True)) == [0, 13, 13, 13]
