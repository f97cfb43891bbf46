"""The ledger: every stock change is a row, balances add up, nothing goes below zero."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from fieldservice.inventory import services
from fieldservice.inventory.choices import Grade, MoveReason, Tracking, UnitStatus, WarehouseKind
from fieldservice.inventory.models import SerialUnit, StockBalance, StockMove, Warehouse
from fieldservice.inventory.services import Line, post
from tests import factories


def balance(warehouse, part, **key):
    return StockBalance.objects.get(warehouse=warehouse, part=part, **key)


def test_receipt_adds_stock_and_moving_average_cost(personas):
    part = factories.part()
    central = factories.warehouse(personas.own)
    factories.stock(central, part, 10, unit_cost="5")
    factories.stock(central, part, 10, unit_cost="8")
    assert balance(central, part).on_hand == Decimal("20")
    part.refresh_from_db()
    assert part.average_cost == Decimal("6.5000")
    moves = list(StockMove.objects.filter(part=part).order_by("pk"))
    assert [m.on_hand_after for m in moves] == [Decimal("10"), Decimal("20")]
    assert [m.unit_cost for m in moves] == [Decimal("5"), Decimal("8")]


def test_a_move_below_zero_is_refused_and_writes_nothing(personas):
    part = factories.part()
    central = factories.warehouse(personas.own)
    factories.stock(central, part, 3)
    with pytest.raises(ValidationError) as caught:
        post(
            [
                Line(central, part, MoveReason.SCRAP, quantity=Decimal("-1")),
                Line(central, part, MoveReason.SCRAP, quantity=Decimal("-3")),
            ],
            actor=personas.parts_keeper,
        )
    assert caught.value.error_dict["quantity"][0].code == "insufficient_stock"
    assert balance(central, part).on_hand == Decimal("3")
    assert StockMove.objects.filter(part=part).count() == 1


def test_reserved_stock_is_not_free(personas):
    part = factories.part()
    central = factories.warehouse(personas.own)
    factories.stock(central, part, 5)
    post([Line(central, part, MoveReason.RESERVE, reserved=Decimal("4"))], actor=personas.parts_keeper)
    with pytest.raises(ValidationError) as caught:
        post([Line(central, part, MoveReason.SCRAP, quantity=Decimal("-2"))], actor=personas.parts_keeper)
    assert caught.value.error_dict["quantity"][0].code == "insufficient_stock"
    post([Line(central, part, MoveReason.SCRAP, quantity=Decimal("-1"))], actor=personas.parts_keeper)
    assert balance(central, part).available == Decimal("0")


def test_the_database_refuses_a_negative_on_hand_even_without_the_ledger(personas):
    part = factories.part()
    central = factories.warehouse(personas.own)
    factories.stock(central, part, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockBalance.objects.filter(warehouse=central, part=part).update(on_hand=Decimal("-1"))


def test_serial_units_follow_their_moves(personas):
    part = factories.part(tracking=Tracking.SERIAL)
    central = factories.warehouse(personas.own)
    factories.stock(central, part, 2, serials="S1, S2")
    unit = SerialUnit.objects.get(part=part, serial="S1")
    assert unit.warehouse == central and unit.status == UnitStatus.IN_STOCK
    van = services.van_for(factories.engineer())
    with pytest.raises(ValidationError) as caught:
        post([Line(van, part, MoveReason.CONSUMPTION, quantity=Decimal("-1"), unit=unit)], actor=personas.admin)
    assert caught.value.error_dict["unit"][0].code == "not_here"
    post(
        [
            Line(central, part, MoveReason.ISSUE, quantity=Decimal("-1"), unit=unit),
            Line(van, part, MoveReason.ISSUE, quantity=Decimal("1"), unit=unit),
        ],
        actor=personas.admin,
    )
    unit.refresh_from_db()
    assert unit.warehouse == van
    post([Line(van, part, MoveReason.CONSUMPTION, quantity=Decimal("-1"), unit=unit)], actor=personas.admin)
    unit.refresh_from_db()
    assert unit.status == UnitStatus.FITTED and unit.warehouse is None


def test_serial_count_must_match(personas):
    part = factories.part(tracking=Tracking.SERIAL)
    central = factories.warehouse(personas.own)
    with pytest.raises(ValidationError) as caught:
        factories.stock(central, part, 3, serials="A1 A2")
    assert caught.value.error_dict["serials"][0].code == "count_mismatch"
    assert not SerialUnit.objects.exists()


def test_engineers_get_a_van(personas):
    engineer = factories.engineer()
    van = Warehouse.objects.get(engineer=engineer)
    assert van.kind == WarehouseKind.VAN and van.organisation == engineer.organisation
    assert Warehouse.objects.filter(engineer=personas.engineer).exists()


def test_drift_is_empty_after_moves(personas):
    part = factories.part()
    central = factories.warehouse(personas.own)
    factories.stock(central, part, 7)
    services.scrap_stock(central, actor=personas.parts_keeper, part=part, quantity="2", note="broken")
    assert services.drift() == []
    StockBalance.objects.filter(warehouse=central, part=part).update(on_hand=Decimal("9"))
    assert len(services.drift()) == 1


def test_defective_stock_is_worth_nothing(personas):
    part = factories.part()
    van = services.van_for(factories.engineer())
    factories.stock(factories.warehouse(personas.own), part, 1, unit_cost="50")
    moves = post(
        [Line(van, part, MoveReason.REMOVED_FROM_MACHINE, quantity=Decimal("1"), grade=Grade.DEFECTIVE)],
        actor=personas.admin,
    )
    assert moves[0].unit_cost == 0


def test_keeper_of_another_organisation_cannot_receive(personas):
    part = factories.part()
    provider_store = factories.warehouse(personas.provider)
    with pytest.raises(PermissionDenied):
        factories.stock(provider_store, part, 1, actor=personas.parts_keeper)
    assert not StockMove.objects.filter(warehouse=provider_store).exists()
    factories.stock(provider_store, part, 1, actor=personas.provider_admin)
    assert balance(provider_store, part).on_hand == 1
