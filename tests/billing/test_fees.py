"""Fee lines: the visit priced on completion (labour by level and service type, call-out,
travel, parts with their cost), who pays each line by the entitlement, re-pricing, corrections,
removal, frozen orders and bad input."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from fieldservice.accounts.models import EngineerProfile, ServiceArea
from fieldservice.billing.choices import BillStatus, FeeKind, FeeSource, Payer
from fieldservice.billing.models import Bill, FeeLine, OrderMargin
from fieldservice.billing.services import fees, pricing
from fieldservice.contracts.choices import Entitlement, PartsCoverage, PriceItemKind
from fieldservice.contracts.models import PriceListItem
from fieldservice.core.errors import DomainError
from fieldservice.core.geo import great_circle_km
from fieldservice.core.models import Event
from fieldservice.inventory.models import Part
from fieldservice.workorders.choices import WorkOrderStatus
from fieldservice.workorders.hooks import Move
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.intake import create_work_order
from tests import factories
from tests.billing.conftest import complete, png_file

pytestmark = pytest.mark.django_db


def live(order, kind=None):
    lines = FeeLine.objects.filter(work_order=order, is_void=False)
    return lines.filter(kind=kind) if kind else lines


def set_level(user, level, **home):
    EngineerProfile.objects.update_or_create(user=user, defaults={"level": level, **home})


def cost_parts(p, motor="700.00", seal="12.5000"):
    """Give the parts a moving-average cost before they are used (the ledger books it)."""
    Part.objects.filter(pk=p.motor.pk).update(average_cost=Decimal(motor))
    Part.objects.filter(pk=p.seal.pk).update(average_cost=Decimal(seal))


def entitle(order, entitlement, contract=None, reason=""):
    WorkOrder.objects.filter(pk=order.pk).update(
        entitlement=entitlement, contract=contract, entitlement_reason=reason or entitlement
    )
    order.refresh_from_db()


# -- chargeable: priced by level and type ---------------------------------------------------------


def test_a_chargeable_visit_is_priced_by_the_engineers_level_and_the_service_type(prices, settings):
    p = prices
    settings.FSM_LABOUR_COST_PER_HOUR = {"junior": Decimal("90"), "regular": Decimal("130"), "senior": Decimal("180")}
    set_level(p.engineer, "senior")
    cost_parts(p)
    order = complete(p)
    assert order.entitlement == Entitlement.CHARGEABLE and order.service_type == "repair"
    labour = live(order, FeeKind.LABOUR).get()
    # 2.5 h recorded × the senior repair rate (300, not the 200 for anyone); our cost 180/h.
    assert (labour.quantity, labour.unit_price, labour.amount) == (Decimal("2.5"), Decimal("300.00"), Decimal("750.00"))
    assert labour.cost == Decimal("450.00") and labour.source == FeeSource.AUTO
    call_out = live(order, FeeKind.SERVICE).get()
    assert call_out.amount == Decimal("150.00")
    motor = live(order, FeeKind.PART).get(part=p.motor)
    seal = live(order, FeeKind.PART).get(part=p.seal)
    assert (motor.amount, motor.cost) == (Decimal("1200.00"), Decimal("700.00"))
    assert (seal.quantity, seal.amount, seal.cost) == (Decimal("2"), Decimal("91.00"), Decimal("25.00"))
    assert {line.payer for line in live(order)} == {Payer.CUSTOMER}
    assert all(line.payer_reason.startswith("Chargeable") for line in live(order))
    margin = OrderMargin.objects.get(work_order=order)
    assert margin.revenue == Decimal("2191.00")
    assert margin.labour_cost == Decimal("450.00") and margin.parts_cost == Decimal("725.00")
    assert margin.margin == Decimal("2191.00") - Decimal("1175.00")
    assert Event.objects.filter(action="order_priced", object_pk=str(order.pk)).count() == 1


def test_a_regular_engineer_gets_the_rate_for_any_level(prices):
    p = prices
    order = complete(p)
    labour = live(order, FeeKind.LABOUR).get()
    assert labour.unit_price == Decimal("200.00") and labour.amount == Decimal("500.00")
    assert labour.cost == Decimal("2.5") * Decimal("130")  # the default internal cost of a regular engineer


def test_hours_from_the_time_on_site_round_up_to_the_quarter(prices):
    p = prices
    order = complete(p)
    start = timezone.now() - dt.timedelta(hours=3)
    WorkOrder.objects.filter(pk=order.pk).update(
        labour_hours=None, checked_in_at=start, checked_out_at=start + dt.timedelta(hours=1, minutes=31)
    )
    pricing.price_order(order, actor=p.agent)
    assert live(order, FeeKind.LABOUR).get().quantity == Decimal("1.75")


# -- warranty and contracts ----------------------------------------------------------------------


def test_a_warranty_visit_is_free_for_the_customer_but_keeps_its_cost(prices):
    p = prices
    ends = timezone.localdate() + dt.timedelta(days=200)
    p.machine.warranty_starts_on = timezone.localdate() - dt.timedelta(days=100)
    p.machine.warranty_ends_on = ends
    p.machine.save()
    entitle(p.order, Entitlement.WARRANTY)
    cost_parts(p)
    order = complete(p)
    lines = list(live(order))
    assert {line.kind for line in lines} == {FeeKind.LABOUR, FeeKind.SERVICE, FeeKind.PART}
    assert {line.payer for line in lines} == {Payer.WARRANTY}
    assert all(line.payer_reason == f"In warranty until {ends.isoformat()}" for line in lines)
    totals = fees.totals(lines)
    assert totals["customer"] == 0 and totals["covered"] == Decimal("1941.00")
    margin = OrderMargin.objects.get(work_order=order)
    assert margin.revenue == 0
    assert margin.labour_cost == Decimal("325.00") and margin.parts_cost == Decimal("725.00")
    assert margin.margin == Decimal("-1050.00")


@pytest.mark.parametrize(
    ("labour_covered", "parts_coverage", "labour_payer", "part_payer", "part_reason"),
    [
        (True, PartsCoverage.ALL, Payer.CONTRACT, Payer.CONTRACT, "Parts are covered by contract"),
        (False, PartsCoverage.NONE, Payer.CUSTOMER, Payer.CUSTOMER, "does not cover parts"),
        (True, PartsCoverage.WEAR_EXCLUDED, Payer.CONTRACT, Payer.CUSTOMER, "does not mark wear parts"),
    ],
)
def test_a_contract_covers_what_it_says(prices, labour_covered, parts_coverage, labour_payer, part_payer, part_reason):
    p = prices
    contract = factories.contract(
        p.customer_cn,
        machines=[p.other_machine],
        activate=True,
        labour_covered=labour_covered,
        parts_coverage=parts_coverage,
    )
    entitle(p.order, Entitlement.CONTRACT, contract)
    set_level(p.engineer, "regular", home_latitude=Decimal("29.90"), home_longitude=Decimal("121.60"))
    order = complete(p)
    labour = live(order, FeeKind.LABOUR).get()
    assert labour.payer == labour_payer and contract.number in labour.payer_reason
    for part_line in live(order, FeeKind.PART):
        assert part_line.payer == part_payer
        assert part_reason in part_line.payer_reason and contract.number in part_line.payer_reason
    travel = live(order, FeeKind.TRAVEL).get()
    assert travel.payer == Payer.CONTRACT and contract.number in travel.payer_reason
    assert live(order, FeeKind.SERVICE).get().payer == Payer.CONTRACT
    margin = OrderMargin.objects.get(work_order=order)
    assert margin.revenue == sum(line.amount for line in live(order) if line.payer == Payer.CUSTOMER)


def test_other_costs_are_internal_under_a_contract(prices):
    p = prices
    contract = factories.contract(p.customer_cn, machines=[p.other_machine], activate=True)
    entitle(p.order, Entitlement.CONTRACT, contract)
    order = complete(p)
    line = fees.add_fee_line(order, actor=p.agent, kind=FeeKind.OTHER, description="Toll", unit_price="35.00")
    assert line.payer == Payer.CONTRACT and line.cost == Decimal("35.00")
    assert fees.payer_for(order, FeeKind.OTHER)[0] == Payer.CONTRACT


# -- travel ---------------------------------------------------------------------------------------


def test_travel_by_kilometre_from_the_engineers_home_base(prices, settings):
    p = prices
    settings.FSM_TRAVEL_COST_PER_KM = Decimal("1.50")
    set_level(p.engineer, "regular", home_latitude=Decimal("29.950000"), home_longitude=Decimal("121.700000"))
    order = complete(p)
    travel = live(order, FeeKind.TRAVEL).get()
    # The optimiser's default travel model: the straight line × the road factor.
    expected = Decimal(str(great_circle_km(29.95, 121.70, p.site_cn.latitude, p.site_cn.longitude) * 1.3))
    assert abs(travel.quantity - expected) <= Decimal("0.1")
    assert travel.unit_price == Decimal("3.00") and travel.unit == "km"
    assert travel.amount == (travel.quantity * 3).quantize(Decimal("0.01"))
    assert travel.cost == (travel.quantity * Decimal("1.50")).quantize(Decimal("0.01"))


def test_a_site_in_a_priced_zone_gets_the_zones_fixed_fee(prices):
    p = prices
    lat, lng = float(p.site_cn.latitude), float(p.site_cn.longitude)
    ring = [[lng - 0.1, lat - 0.1], [lng + 0.1, lat - 0.1], [lng + 0.1, lat + 0.1], [lng - 0.1, lat + 0.1]]
    zone = ServiceArea.objects.create(name="北仑", polygon=[*ring, ring[0]])
    PriceListItem.objects.create(
        price_list=p.price_list, kind=PriceItemKind.TRAVEL_ZONE, area=zone, unit_price=Decimal("88.00")
    )
    set_level(p.engineer, "regular", home_latitude=Decimal("29.950000"), home_longitude=Decimal("121.700000"))
    order = complete(p)
    travel = live(order, FeeKind.TRAVEL).get()
    assert (travel.quantity, travel.amount) == (Decimal("1"), Decimal("88.00"))
    assert "北仑" in travel.description and travel.cost > 0


def test_no_home_base_no_travel_line(prices):
    assert not live(complete(prices), FeeKind.TRAVEL).exists()


# -- parts ----------------------------------------------------------------------------------------


def test_a_part_costs_what_the_ledger_booked_when_it_was_used(prices):
    p = prices
    cost_parts(p, motor="650.00")
    order = complete(p)
    Part.objects.filter(pk=p.motor.pk).update(average_cost=Decimal("999.00"))  # a later receipt
    pricing.price_order(order, actor=p.agent)
    motor = live(order, FeeKind.PART).get(part=p.motor)
    assert motor.unit_cost == Decimal("650.0000") and motor.cost == Decimal("650.00")
    assert motor.part_usage.part == p.motor


def test_a_part_without_a_price_is_listed_at_zero(prices):
    p = prices
    PriceListItem.objects.filter(part=p.seal).delete()
    order = complete(p)
    assert live(order, FeeKind.PART).get(part=p.seal).amount == 0


# -- re-pricing -----------------------------------------------------------------------------------


def test_pricing_again_changes_nothing(prices):
    p = prices
    order = complete(p)
    before = list(live(order).values("pk", "amount", "cost", "payer", "updated_at"))
    events = Event.objects.count()
    pricing.price_order(order, actor=p.agent)
    pricing.price_order(order, actor=p.agent)
    assert list(live(order).values("pk", "amount", "cost", "payer", "updated_at")) == before
    assert Event.objects.count() == events


def test_pricing_again_follows_the_visit(prices):
    p = prices
    order = complete(p)
    WorkOrder.objects.filter(pk=order.pk).update(labour_hours=Decimal("4"))
    pricing.price_order(order, actor=p.agent)
    labour = live(order, FeeKind.LABOUR).get()
    assert labour.amount == Decimal("800.00")
    assert FeeLine.objects.filter(work_order=order, kind=FeeKind.LABOUR).count() == 1
    event = Event.objects.filter(action="order_priced", object_pk=str(order.pk)).latest("pk")
    assert event.changes[labour.description] == ["500.00", "800.00"]
    assert OrderMargin.objects.get(work_order=order).revenue == Decimal("2241.00")


def test_only_the_back_office_prices_by_hand(prices):
    p = prices
    order = complete(p)
    for outsider in (p.engineer, p.dispatcher, p.customer_user_a):
        with pytest.raises(PermissionDenied):
            pricing.price_order(order, actor=outsider)


# -- corrections and removal ---------------------------------------------------------------------


def test_a_correction_is_logged_and_survives_pricing_again(prices):
    p = prices
    order = complete(p)
    labour = live(order, FeeKind.LABOUR).get()
    fees.correct_fee_line(labour, actor=p.agent, reason="Agreed rate with the customer", unit_price="180.00")
    labour.refresh_from_db()
    assert labour.amount == Decimal("450.00")
    event = Event.objects.get(action="fee_corrected", object_pk=str(labour.pk))
    assert event.note == "Agreed rate with the customer" and event.actor == p.agent
    assert event.changes["unit_price"] == ["200.00", "180.00"] and event.changes["amount"] == ["500.00", "450.00"]
    WorkOrder.objects.filter(pk=order.pk).update(labour_hours=Decimal("6"))
    pricing.price_order(order, actor=p.agent)
    labour.refresh_from_db()
    assert labour.amount == Decimal("450.00") and labour.quantity == Decimal("2.5")
    assert OrderMargin.objects.get(work_order=order).revenue == Decimal("450.00") + Decimal("1441.00")


def test_a_correction_needs_a_reason_and_the_back_office(prices):
    p = prices
    order = complete(p)
    labour = live(order, FeeKind.LABOUR).get()
    with pytest.raises(ValidationError) as error:
        fees.correct_fee_line(labour, actor=p.agent, reason=" ", unit_price="1")
    assert "reason" in error.value.error_dict
    with pytest.raises(PermissionDenied):
        fees.correct_fee_line(labour, actor=p.engineer, reason="cheaper", unit_price="1")
    labour.refresh_from_db()
    assert labour.unit_price == Decimal("200.00")
    assert not Event.objects.filter(action="fee_corrected").exists()


def test_a_removed_line_stays_removed(prices):
    p = prices
    order = complete(p)
    call_out = live(order, FeeKind.SERVICE).get()
    fees.void_fee_line(call_out, actor=p.agent, reason="Waived for a good customer")
    pricing.price_order(order, actor=p.agent)
    call_out.refresh_from_db()
    assert call_out.is_void and call_out.void_reason == "Waived for a good customer"
    assert not live(order, FeeKind.SERVICE).exists()
    assert OrderMargin.objects.get(work_order=order).revenue == Decimal("1791.00")
    with pytest.raises(DomainError) as error:
        fees.void_fee_line(call_out, actor=p.agent, reason="again")
    assert error.value.code == "void"


def test_the_office_chooses_who_pays_a_line_it_adds(prices):
    p = prices
    order = complete(p)
    line = fees.add_fee_line(
        order,
        actor=p.agent,
        kind=FeeKind.SERVICE,
        description="Hydraulic flush",
        unit_price="800.00",
        discount="100.00",
        payer=Payer.CONTRACT,
        payer_reason="Goodwill",
    )
    assert (line.amount, line.payer, line.payer_reason, line.source) == (
        Decimal("700.00"),
        Payer.CONTRACT,
        "Goodwill",
        FeeSource.OFFICE,
    )
    assert Event.objects.filter(action="fee_added", object_pk=str(line.pk)).exists()


# -- the engineer on the phone ---------------------------------------------------------------------


def test_the_engineer_adds_a_cost_with_its_receipt(prices):
    p = prices
    order = complete(p)
    line = fees.add_fee_line(
        order,
        actor=p.engineer,
        kind=FeeKind.OTHER,
        description="Toll G15",
        unit_price="45.00",
        receipt_file=png_file("receipt.png"),
        payer=Payer.WARRANTY,  # ignored: the engineer does not choose who pays
    )
    assert line.source == FeeSource.ENGINEER and line.payer == Payer.CUSTOMER
    assert line.receipt.work_order_id == order.pk and line.cost == Decimal("45.00")
    fees.void_fee_line(line, actor=p.engineer, reason="Typed twice")
    assert FeeLine.objects.get(pk=line.pk).is_void


def test_the_engineer_needs_a_receipt_and_his_own_open_order(prices):
    p = prices
    order = complete(p)
    count, photos = FeeLine.objects.count(), order.attachments.count()
    with pytest.raises(ValidationError) as error:
        fees.add_fee_line(order, actor=p.engineer, kind=FeeKind.OTHER, description="Lodging", unit_price="300")
    assert "receipt" in error.value.error_dict
    with pytest.raises(ValidationError) as error:
        fees.add_fee_line(order, actor=p.engineer, kind=FeeKind.LABOUR, description="More hours", unit_price="300")
    assert "kind" in error.value.error_dict
    with pytest.raises(PermissionDenied):
        fees.add_fee_line(
            order,
            actor=p.other_engineer,
            kind=FeeKind.OTHER,
            description="Lodging",
            unit_price="300",
            receipt_file=png_file(),
        )
    with pytest.raises(PermissionDenied):
        fees.void_fee_line(live(order, FeeKind.LABOUR).get(), actor=p.engineer, reason="too much")
    WorkOrder.objects.filter(pk=order.pk).update(status=WorkOrderStatus.CLOSED)
    order.refresh_from_db()
    with pytest.raises(PermissionDenied):
        fees.add_fee_line(
            order, actor=p.engineer, kind=FeeKind.OTHER, description="Late", unit_price="1", receipt_file=png_file()
        )
    assert FeeLine.objects.count() == count and order.attachments.count() == photos


# -- frozen ---------------------------------------------------------------------------------------


def test_a_closed_and_billed_order_is_frozen(prices):
    p = prices
    order = complete(p)
    labour = live(order, FeeKind.LABOUR).get()
    WorkOrder.objects.filter(pk=order.pk).update(status=WorkOrderStatus.CLOSED)
    order.refresh_from_db()
    # Closed but not settled: the office may still correct.
    fees.correct_fee_line(labour, actor=p.agent, reason="Typo", discount="10.00")
    Bill.objects.create(
        number="BL2026-00001", work_order=order, customer=order.customer, status=BillStatus.ISSUED, total=1
    )
    lines = FeeLine.objects.count()
    events = Event.objects.count()
    attempts = [
        lambda: pricing.price_order(order, actor=p.agent),
        lambda: fees.add_fee_line(order, actor=p.agent, kind=FeeKind.OTHER, description="x", unit_price="1"),
        lambda: fees.correct_fee_line(labour, actor=p.agent, reason="again", unit_price="1"),
        lambda: fees.void_fee_line(labour, actor=p.agent, reason="gone"),
    ]
    for attempt in attempts:
        with pytest.raises(DomainError) as error:
            attempt()
        assert error.value.code == "frozen"
    labour.refresh_from_db()
    assert labour.discount == Decimal("10.00") and not labour.is_void
    assert FeeLine.objects.count() == lines and Event.objects.count() == events


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-2"}, "quantity"),
        ({"quantity": "lots"}, "quantity"),
        ({"quantity": "1000000"}, "quantity"),
        ({"unit_price": "-5"}, "unit_price"),
        ({"unit_price": "12.345"}, "unit_price"),
        ({"unit_price": "99999999999"}, "unit_price"),
        ({"quantity": "9000", "unit_price": "9999999999.00"}, "unit_price"),
        ({"quantity": "1", "unit_price": "100", "discount": "100.01"}, "discount"),
        ({"discount": "-1"}, "discount"),
        ({"unit_cost": "-1"}, "unit_cost"),
        ({"description": "  "}, "description"),
        ({"kind": "bribe"}, "kind"),
        ({"payer": "nobody"}, "payer"),
    ],
)
def test_bad_input_is_a_field_error_and_writes_nothing(prices, fields, field):
    p = prices
    order = complete(p)
    lines, events = FeeLine.objects.count(), Event.objects.count()
    margin = OrderMargin.objects.get(work_order=order).updated_at
    data = {"kind": FeeKind.SERVICE, "description": "Flush", "quantity": "1", "unit_price": "10"} | fields
    with pytest.raises(ValidationError) as error:
        fees.add_fee_line(order, actor=p.agent, **data)
    assert list(error.value.error_dict) == [field]
    labour = live(order, FeeKind.LABOUR).get()
    correction = {k: v for k, v in fields.items() if k in fees.CORRECTABLE}
    if correction:
        with pytest.raises(ValidationError) as error:
            fees.correct_fee_line(labour, actor=p.agent, reason="try", **correction)
        assert field in error.value.error_dict or "discount" in error.value.error_dict
    assert FeeLine.objects.count() == lines and Event.objects.count() == events
    assert live(order, FeeKind.LABOUR).get().amount == labour.amount
    assert OrderMargin.objects.get(work_order=order).updated_at == margin


# -- the completion hook, for a batch -------------------------------------------------------------


def _completed_orders(p, count):
    orders = []
    for _ in range(count):
        request = factories.service_request(p.customer_cn, actor=p.agent, equipment=p.other_machine)
        order = create_work_order(request, actor=p.agent)
        WorkOrder.objects.filter(pk=order.pk).update(status=WorkOrderStatus.COMPLETED, labour_hours=Decimal("1.5"))
        orders.append(order)
    return orders


def _moves(orders, actor):
    now = timezone.now()
    return [Move(o.pk, "complete", WorkOrderStatus.ON_SITE, WorkOrderStatus.COMPLETED, actor, "", now) for o in orders]


def test_the_hook_prices_a_batch_with_reads_that_do_not_grow_with_it(prices):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    p = prices
    one, many = _completed_orders(p, 1), _completed_orders(p, 6)
    with CaptureQueriesContext(connection) as single:
        pricing.price_completed(_moves(one, p.engineer))
    with CaptureQueriesContext(connection) as batch:
        pricing.price_completed(_moves(many, p.engineer))
    # One event per priced order is written; every read and the lines are one statement per kind.
    assert len(batch.captured_queries) - len(single.captured_queries) <= len(many) - len(one)
    for order in one + many:
        labour = live(order, FeeKind.LABOUR).get()
        assert labour.amount == Decimal("300.00")  # 1.5 h at the rate for anyone: no lead engineer
        assert live(order, FeeKind.SERVICE).get().amount == Decimal("150.00")
        assert OrderMargin.objects.get(work_order=order).revenue == Decimal("450.00")
    # Moves to other states price nothing.
    other = _completed_orders(p, 1)[0]
    pricing.price_completed(
        [Move(other.pk, "close", WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED, None, "", timezone.now())]
    )
    assert not FeeLine.objects.filter(work_order=other).exists()


def test_a_closed_order_in_an_approved_statement_is_frozen(prices):
    from fieldservice.billing.choices import PartyKind, StatementStatus
    from fieldservice.billing.models import Statement, StatementLine

    p = prices
    order = complete(p)
    WorkOrder.objects.filter(pk=order.pk).update(status=WorkOrderStatus.CLOSED)
    order.refresh_from_db()
    today = timezone.localdate()
    statement = Statement.objects.create(
        number="ST2026-00001",
        party_kind=PartyKind.ENGINEER,
        engineer=p.engineer,
        party_key=f"e{p.engineer.pk}",
        period_start=today,
        period_end=today,
    )
    StatementLine.objects.create(statement=statement, party_key=statement.party_key, work_order=order, amount=100)
    assert not fees.is_frozen(order)  # awaiting confirmation: still open to corrections
    Statement.objects.filter(pk=statement.pk).update(status=StatementStatus.APPROVED)
    assert fees.is_frozen(order)
    with pytest.raises(DomainError) as error:
        fees.add_fee_line(order, actor=p.agent, kind=FeeKind.OTHER, description="Toll", unit_price="5")
    assert error.value.code == "frozen"


def test_a_payer_the_office_overrides_says_so(prices):
    p = prices
    p.machine.warranty_starts_on = timezone.localdate() - dt.timedelta(days=10)
    p.machine.warranty_ends_on = timezone.localdate() + dt.timedelta(days=10)
    p.machine.save()
    entitle(p.order, Entitlement.WARRANTY)
    order = complete(p)
    call_out = live(order, FeeKind.SERVICE).get()
    fees.correct_fee_line(call_out, actor=p.agent, reason="Damage by the operator", payer=Payer.CUSTOMER)
    call_out.refresh_from_db()
    assert call_out.payer == Payer.CUSTOMER and call_out.payer_reason == "Chosen by the back office"
    assert OrderMargin.objects.get(work_order=order).revenue == Decimal("150.00")


def test_a_price_beyond_reason_does_not_stop_the_completion(prices):
    p = prices
    PriceListItem.objects.filter(part=p.seal).update(unit_price=Decimal("9999999999.00"))  # × 2 seals
    order = complete(p)
    assert order.status == WorkOrderStatus.COMPLETED
    assert not live(order, FeeKind.PART).filter(part=p.seal).exists()
    assert live(order, FeeKind.PART).filter(part=p.motor).exists() and live(order, FeeKind.LABOUR).exists()


def test_a_partner_providers_visit_is_priced_but_costs_us_only_its_settlement(prices, settings):
    """The provider's engineer is not on our payroll: his hours and his driving are priced for the
    customer, but their cost to us is what the provider's statement pays, not our own rates."""
    from fieldservice.dispatch.assignments.services import (
        accept_assignment,
        assign_provider_engineer,
        dispatch_to_provider,
    )
    from fieldservice.field import services as field_services

    p = prices
    settings.FSM_LABOUR_COST_PER_HOUR = {"regular": Decimal("130")}
    settings.FSM_TRAVEL_COST_PER_KM = Decimal("1.20")
    set_level(p.provider_engineer, "regular", home_latitude=Decimal("29.95"), home_longitude=Decimal("121.60"))
    order = factories.work_order(p.customer_cn, actor=p.agent, equipment=p.other_machine)
    assignment = dispatch_to_provider(order, actor=p.dispatcher, provider=p.provider)
    assign_provider_engineer(assignment, actor=p.provider_admin, engineer=p.provider_engineer)
    accept_assignment(assignment, actor=p.provider_engineer)
    field_services.check_in(order, actor=p.provider_engineer, latitude="29.868", longitude="121.544", accuracy=12)
    field_services.record_work(
        order, actor=p.provider_engineer, resolution_type="repair", fault_cause="x", actions_taken="y", labour_hours="2"
    )
    field_services.capture_signature(order, actor=p.provider_engineer, image_file=png_file("s.png"), signer_name="W")
    field_services.complete_visit(order, actor=p.provider_engineer)

    labour = live(order, FeeKind.LABOUR).get()
    assert (labour.amount, labour.cost) == (Decimal("400.00"), Decimal("0.00"))
    travel = live(order, FeeKind.TRAVEL).get()
    assert travel.amount > 0 and travel.cost == 0
    margin = OrderMargin.objects.get(work_order=order)
    assert (margin.labour_cost, margin.travel_cost) == (0, 0)
