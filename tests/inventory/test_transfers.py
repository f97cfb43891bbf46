"""Requisitions, transfers and returns: reserve on approval, transit on shipping, shortfalls on receipt."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.core.errors import DomainError
from fieldservice.inventory import services
from fieldservice.inventory.choices import DefectStatus, Grade, MoveReason, Tracking, TransferKind, TransferStatus
from fieldservice.inventory.models import DefectivePart, StockBalance, StockMove
from fieldservice.inventory.services import Line, post
from tests import factories


def on_hand(warehouse, part, grade=Grade.GOOD):
    row = StockBalance.objects.filter(warehouse=warehouse, part=part, grade=grade).first()
    return (row.on_hand, row.reserved) if row else (Decimal(0), Decimal(0))


@pytest.fixture
def setup(personas):
    central = factories.warehouse(personas.own)
    part = factories.part()
    factories.stock(central, part, 10, unit_cost="20")
    van = services.van_for(personas.engineer)
    return central, part, van


def requisition(personas, central, part, van, quantity=4):
    return services.request_transfer(
        actor=personas.engineer,
        kind=TransferKind.REQUISITION,
        source=central,
        destination=van,
        lines=[{"part": part, "quantity": quantity}],
        work_order_id=7,
        work_order_number="WO0000007",
        urgent=True,
    )


def test_requisition_from_request_to_the_van(personas, setup):
    central, part, van = setup
    transfer = requisition(personas, central, part, van)
    assert transfer.number.startswith("RQ") and transfer.status == TransferStatus.REQUESTED
    line = transfer.lines.get()
    services.approve_transfer(transfer, actor=personas.parts_keeper, quantities={line.pk: "3"})
    assert on_hand(central, part) == (Decimal(10), Decimal(3))
    services.ship_transfer(transfer, actor=personas.parts_keeper, carrier="SF", tracking_number="SF123")
    assert on_hand(central, part) == (Decimal(7), Decimal(0))
    services.receive_transfer(transfer, actor=personas.engineer)
    assert on_hand(van, part) == (Decimal(3), Decimal(0))
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED
    assert set(StockMove.objects.filter(document_id=transfer.pk).values_list("reason", flat=True)) == {
        MoveReason.RESERVE,
        MoveReason.TRANSFER_OUT,
        MoveReason.IN_TRANSIT,
        MoveReason.TRANSFER_IN,
        MoveReason.ISSUE,
    }
    assert services.drift() == []


def test_approving_or_receiving_twice_moves_stock_once(personas, setup):
    central, part, van = setup
    transfer = requisition(personas, central, part, van)
    services.approve_transfer(transfer, actor=personas.parts_keeper)
    with pytest.raises(DomainError) as caught:
        services.approve_transfer(transfer, actor=personas.parts_keeper)
    assert caught.value.code == "already_approved"
    assert on_hand(central, part) == (Decimal(10), Decimal(4))
    services.ship_transfer(transfer, actor=personas.parts_keeper, delivery="collect")
    services.receive_transfer(transfer, actor=personas.engineer)
    with pytest.raises(DomainError) as caught:
        services.receive_transfer(transfer, actor=personas.engineer)
    assert caught.value.code == "already_received"
    assert on_hand(van, part) == (Decimal(4), Decimal(0))


def test_receipt_of_more_than_shipped_is_refused_and_a_shortfall_recorded(personas, setup):
    central, part, van = setup
    transfer = requisition(personas, central, part, van)
    services.approve_transfer(transfer, actor=personas.parts_keeper)
    services.ship_transfer(transfer, actor=personas.parts_keeper, carrier="SF")
    line = transfer.lines.get()
    with pytest.raises(ValidationError) as caught:
        services.receive_transfer(transfer, actor=personas.engineer, quantities={line.pk: "5"})
    assert f"quantities[{line.pk}]" in caught.value.error_dict
    assert on_hand(van, part) == (Decimal(0), Decimal(0))
    services.receive_transfer(transfer, actor=personas.engineer, quantities={line.pk: "3"})
    assert on_hand(van, part)[0] == Decimal(3)
    assert StockMove.objects.get(document_id=transfer.pk, reason=MoveReason.SHORTFALL).quantity == Decimal(-1)
    line.refresh_from_db()
    assert line.shortfall == Decimal(1)
    assert services.drift() == []


def test_others_cannot_approve_or_receive(personas, setup):
    central, part, van = setup
    transfer = requisition(personas, central, part, van)
    for outsider in (personas.engineer, personas.provider_admin, personas.dispatcher):
        with pytest.raises(PermissionDenied):
            services.approve_transfer(transfer, actor=outsider)
    services.approve_transfer(transfer, actor=personas.parts_keeper)
    services.ship_transfer(transfer, actor=personas.parts_keeper, carrier="SF")
    with pytest.raises(PermissionDenied):
        services.receive_transfer(transfer, actor=personas.provider_engineer)


def test_an_engineer_cannot_fill_another_van(personas, setup):
    central, part, _van = setup
    other_van = services.van_for(factories.engineer(personas.own))
    with pytest.raises(PermissionDenied):
        services.request_transfer(
            actor=personas.engineer,
            kind=TransferKind.REQUISITION,
            source=central,
            destination=other_van,
            lines=[{"part": part, "quantity": 1}],
        )


def test_a_provider_engineer_cannot_request_from_our_warehouse(personas, setup):
    central, part, _van = setup
    with pytest.raises(ValidationError) as caught:
        services.request_transfer(
            actor=personas.provider_engineer,
            kind=TransferKind.REQUISITION,
            source=central,
            destination=services.van_for(personas.provider_engineer),
            lines=[{"part": part, "quantity": 1}],
        )
    assert "destination" in caught.value.error_dict


def test_cancel_releases_the_reservation(personas, setup):
    central, part, van = setup
    transfer = requisition(personas, central, part, van)
    services.approve_transfer(transfer, actor=personas.parts_keeper)
    assert on_hand(central, part) == (Decimal(10), Decimal(4))
    services.cancel_transfer(transfer, actor=personas.engineer)
    assert on_hand(central, part) == (Decimal(10), Decimal(0))
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.CANCELLED


def test_bad_lines_name_the_field(personas, setup):
    central, part, van = setup
    for quantity in ("0", "-1", "abc", "1.0001"):
        with pytest.raises(ValidationError) as caught:
            requisition(personas, central, part, van, quantity=quantity)
        assert "lines[0].quantity" in caught.value.error_dict


def test_return_of_a_defective_part(personas, setup):
    central, part, van = setup
    post(
        [Line(van, part, MoveReason.REMOVED_FROM_MACHINE, quantity=Decimal(1), grade=Grade.DEFECTIVE)],
        actor=personas.engineer,
    )
    defect = DefectivePart.objects.create(
        part=part, quantity=1, engineer=personas.engineer, warehouse=van, work_order_number="WO1"
    )
    transfer = services.request_transfer(
        actor=personas.engineer, kind=TransferKind.RETURN, source=van, destination=central, defects=[defect]
    )
    assert transfer.status == TransferStatus.APPROVED
    services.ship_transfer(transfer, actor=personas.engineer)
    defect.refresh_from_db()
    assert defect.status == DefectStatus.RETURNING
    services.receive_transfer(transfer, actor=personas.parts_keeper)
    defect.refresh_from_db()
    assert defect.status == DefectStatus.RETURNED and defect.warehouse == central
    assert on_hand(central, part, Grade.DEFECTIVE)[0] == Decimal(1)
    assert on_hand(van, part, Grade.DEFECTIVE)[0] == Decimal(0)


def test_serial_parts_name_their_units(personas):
    central = factories.warehouse(personas.own)
    part = factories.part(tracking=Tracking.SERIAL)
    factories.stock(central, part, 2, serials="U1 U2")
    van = services.van_for(personas.engineer)
    transfer = requisition(personas, central, part, van, quantity=2)
    services.approve_transfer(transfer, actor=personas.parts_keeper)
    line = transfer.lines.get()
    with pytest.raises(ValidationError):
        services.ship_transfer(transfer, actor=personas.parts_keeper, carrier="SF", serials={line.pk: "U1"})
    services.ship_transfer(transfer, actor=personas.parts_keeper, carrier="SF", serials={line.pk: "U1 U2"})
    services.receive_transfer(transfer, actor=personas.engineer, missing={line.pk: ["U2"]})
    assert list(part.units.filter(warehouse=van).values_list("serial", flat=True)) == ["U1"]
    assert services.drift() == []


def test_a_lot_tracked_part_asked_for_without_a_lot_is_served_oldest_lot_first(personas):
    central = factories.warehouse(personas.own)
    part = factories.part(tracking=Tracking.LOT)
    factories.stock(central, part, 2, lot="L2501")
    factories.stock(central, part, 5, lot="L2503")
    van = services.van_for(personas.engineer)
    transfer = requisition(personas, central, part, van, quantity=4)
    services.approve_transfer(transfer, actor=personas.parts_keeper)
    lines = sorted((line.lot, line.requested, line.approved) for line in transfer.lines.all())
    assert lines == [("L2501", Decimal(2), Decimal(2)), ("L2503", Decimal(2), Decimal(2))]
    services.ship_transfer(transfer, actor=personas.parts_keeper, carrier="SF")
    services.receive_transfer(transfer, actor=personas.engineer)
    held = dict(StockBalance.objects.filter(warehouse=van, part=part).values_list("lot", "on_hand"))
    assert held == {"L2501": Decimal(2), "L2503": Decimal(2)}
    assert services.drift() == []


def test_a_lot_tracked_part_beyond_every_lot_is_refused_whole(personas):
    central = factories.warehouse(personas.own)
    part = factories.part(tracking=Tracking.LOT)
    factories.stock(central, part, 1, lot="L1")
    transfer = requisition(personas, central, part, services.van_for(personas.engineer), quantity=3)
    with pytest.raises(ValidationError):
        services.approve_transfer(transfer, actor=personas.parts_keeper)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.REQUESTED
    assert StockBalance.objects.get(warehouse=central, part=part).reserved == 0
