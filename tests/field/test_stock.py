"""Parts used on a visit come out of the engineer's van; a part he takes off the machine goes into
his van as defective stock and is a part he owes. Taking the entry back undoes both."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from fieldservice.assets import services as asset_services
from fieldservice.core.errors import DomainError
from fieldservice.field import services
from fieldservice.field.models import PartUsage
from fieldservice.inventory import services as inventory_services
from fieldservice.inventory.choices import DefectStatus, Grade, MoveReason, Tracking, UnitStatus, WarehouseKind
from fieldservice.inventory.models import DefectivePart, SerialUnit, StockBalance, StockMove
from fieldservice.inventory.services import drift
from tests import factories
from tests.field.conftest import on_site, ready_to_complete


def held(warehouse, part, grade=Grade.GOOD, lot="") -> Decimal:
    row = StockBalance.objects.filter(warehouse=warehouse, part=part, grade=grade, lot=lot).first()
    return row.on_hand if row else Decimal(0)


def van(p):
    return inventory_services.van_for(p.engineer)


def codes(error: ValidationError) -> dict[str, str]:
    return {field: errors[0].code for field, errors in error.error_dict.items()}


def test_a_part_used_leaves_the_van_on_the_work_order(visit):
    on_site(visit)
    services.use_part(visit.order, actor=visit.engineer, part=visit.seal, quantity=2)
    assert held(van(visit), visit.seal) == 8
    move = StockMove.objects.filter(reason=MoveReason.CONSUMPTION).get()
    assert (move.warehouse, move.quantity, move.document_kind, move.work_order_id, move.reference) == (
        van(visit),
        Decimal(-2),
        "work_order",
        visit.order.pk,
        visit.order.number,
    )
    assert move.equipment_id == visit.machine.pk
    assert drift() == []


def test_not_enough_in_the_van_is_refused_and_writes_nothing(visit):
    on_site(visit)
    moves = StockMove.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.use_part(visit.order, actor=visit.engineer, part=visit.seal, quantity=11)
    assert codes(caught.value) == {"quantity": "insufficient_stock"}
    with pytest.raises(ValidationError) as caught:
        motor = visit.machine.fitted_parts.get(part=visit.motor)
        services.use_part(visit.order, actor=visit.engineer, part=factories.part(), quantity=1, replaces=motor)
    assert codes(caught.value) == {"quantity": "insufficient_stock"}
    assert not PartUsage.objects.exists() and not DefectivePart.objects.exists()
    assert StockMove.objects.count() == moves
    assert held(van(visit), visit.seal) == 10


def test_an_engineer_without_a_van_is_told_to_request_the_part(visit):
    on_site(visit)
    stranger = factories.part()
    with pytest.raises(ValidationError) as caught:
        services.use_part(visit.order, actor=visit.engineer, part=stranger, quantity=1)
    assert codes(caught.value) == {"quantity": "insufficient_stock"}


def test_reserved_stock_in_the_van_is_not_free_to_use(visit):
    on_site(visit)
    inventory_services.post(
        [inventory_services.Line(van(visit), visit.seal, MoveReason.RESERVE, reserved=Decimal(9))],
        actor=visit.admin,
    )
    with pytest.raises(ValidationError) as caught:
        services.use_part(visit.order, actor=visit.engineer, part=visit.seal, quantity=2)
    assert codes(caught.value) == {"quantity": "insufficient_stock"}
    services.use_part(visit.order, actor=visit.engineer, part=visit.seal, quantity=1)


def test_a_serial_part_names_a_unit_in_my_van(visit):
    sensor = factories.part(part_number="SENSOR-1", tracking=Tracking.SERIAL)
    factories.fill_van(visit.engineer, sensor, 2, serials="S-1 S-2", source=visit.store)
    factories.stock(visit.store, sensor, 1, serials="S-9")  # in the store, not in the van
    on_site(visit)
    with pytest.raises(ValidationError) as caught:
        services.use_part(visit.order, actor=visit.engineer, part=sensor, quantity=1, serial="S-9")
    assert codes(caught.value) == {"serial": "not_here"}
    with pytest.raises(ValidationError) as caught:
        services.use_part(visit.order, actor=visit.engineer, part=sensor, quantity=1, new_serial="NOPE")
    assert codes(caught.value) == {"new_serial": "not_here"}
    with pytest.raises(ValidationError) as caught:
        services.use_part(visit.order, actor=visit.engineer, part=sensor, quantity=1)
    assert codes(caught.value) == {"new_serial": "required"}
    assert not PartUsage.objects.exists()
    usage = services.use_part(visit.order, actor=visit.engineer, part=sensor, quantity=1, serial="S-2")
    assert usage.new_serial == "S-2"
    unit = SerialUnit.objects.get(part=sensor, serial="S-2")
    assert (unit.status, unit.warehouse) == (UnitStatus.FITTED, None)
    assert held(van(visit), sensor) == 1
    services.remove_part_usage(usage, actor=visit.engineer)
    unit.refresh_from_db()
    assert (unit.status, unit.warehouse) == (UnitStatus.IN_STOCK, van(visit))
    assert held(van(visit), sensor) == 2 and drift() == []


def test_another_engineers_unit_is_not_mine(visit):
    sensor = factories.part(tracking=Tracking.SERIAL)
    factories.fill_van(visit.helper, sensor, 1, serials="H-1", source=visit.store)
    on_site(visit)
    with pytest.raises(ValidationError) as caught:
        services.use_part(visit.order, actor=visit.engineer, part=sensor, quantity=1, serial="H-1")
    assert codes(caught.value) == {"serial": "not_here"}
    assert SerialUnit.objects.get(serial="H-1").warehouse == inventory_services.van_for(visit.helper)


def test_a_lot_part_takes_the_lot_i_hold(visit):
    grease = factories.part(tracking=Tracking.LOT)
    factories.fill_van(visit.engineer, grease, 3, lot="L1", source=visit.store)
    on_site(visit)
    services.use_part(visit.order, actor=visit.engineer, part=grease, quantity=1)  # the only lot held
    assert held(van(visit), grease, lot="L1") == 2
    factories.fill_van(visit.engineer, grease, 3, lot="L2", source=visit.store)
    with pytest.raises(ValidationError) as caught:
        services.use_part(visit.order, actor=visit.engineer, part=grease, quantity=1)
    assert codes(caught.value) == {"lot": "required"}
    services.use_part(visit.order, actor=visit.engineer, part=grease, quantity=2, lot="L2")
    assert held(van(visit), grease, lot="L2") == 1


def test_a_warehouse_i_may_not_operate_is_refused(visit):
    on_site(visit)
    with pytest.raises(ValidationError) as caught:
        services.use_part(visit.order, actor=visit.engineer, part=visit.seal, quantity=1, warehouse=visit.store)
    assert codes(caught.value) == {"warehouse": "forbidden"}
    other_van = inventory_services.van_for(visit.helper)
    with pytest.raises(ValidationError):
        services.use_part(visit.order, actor=visit.engineer, part=visit.seal, quantity=1, warehouse=other_van)
    assert held(other_van, visit.seal) == 10 and not PartUsage.objects.exists()


def test_replacing_a_part_makes_a_defective_part_owed(visit):
    on_site(visit)
    motor = visit.machine.fitted_parts.get(part=visit.motor)
    motor.part_serial_number = "M-OLD-9"
    motor.save()
    services.use_part(visit.order, actor=visit.engineer, part=None, quantity=1, replaces=motor, new_serial="M-NEW")
    defect = DefectivePart.objects.get()
    assert (defect.part, defect.quantity, defect.serial, defect.engineer, defect.warehouse, defect.status) == (
        visit.motor,
        Decimal(1),
        "M-OLD-9",
        visit.engineer,
        van(visit),
        DefectStatus.OWED,
    )
    assert (defect.work_order_id, defect.work_order_number, defect.equipment_id, defect.equipment_label) == (
        visit.order.pk,
        visit.order.number,
        visit.machine.pk,
        "SN-宁波-0001",
    )
    assert defect.fault_category == "油温过高"
    assert held(van(visit), visit.motor) == 4
    assert held(van(visit), visit.motor, Grade.DEFECTIVE) == 1
    removed = StockMove.objects.get(reason=MoveReason.REMOVED_FROM_MACHINE)
    assert (removed.grade, removed.quantity, removed.work_order_id) == (Grade.DEFECTIVE, 1, visit.order.pk)
    assert drift() == []


def test_a_fitted_unit_comes_back_with_its_part(visit):
    sensor = factories.part(tracking=Tracking.SERIAL)
    factories.fill_van(visit.engineer, sensor, 2, serials="U-1 U-2", source=visit.store)
    on_site(visit)
    services.use_part(visit.order, actor=visit.engineer, part=sensor, quantity=1, serial="U-1")
    # The first sensor went onto the machine on an earlier visit (here: fitted directly).
    old = asset_services.add_fitted_part(visit.machine, actor=visit.agent, part=sensor, quantity=1, serial_number="U-1")
    services.use_part(visit.order, actor=visit.engineer, part=sensor, quantity=1, replaces=old, serial="U-2")
    defect = DefectivePart.objects.get()
    unit = SerialUnit.objects.get(serial="U-1")
    assert defect.unit == unit
    assert (unit.warehouse, unit.grade, unit.status) == (van(visit), Grade.DEFECTIVE, UnitStatus.IN_STOCK)


def test_removing_the_entry_reverses_the_stock_and_the_debt(visit):
    on_site(visit)
    belt = visit.machine.fitted_parts.get(part=visit.belt)
    usage = services.use_part(visit.order, actor=visit.engineer, part=visit.belt, quantity="1.5", replaces=belt)
    assert held(van(visit), visit.belt) == Decimal("8.5")
    services.remove_part_usage(usage, actor=visit.engineer)
    assert held(van(visit), visit.belt) == 10
    assert held(van(visit), visit.belt, Grade.DEFECTIVE) == 0
    assert not DefectivePart.objects.exists() and not PartUsage.objects.exists()
    back = StockMove.objects.filter(reason=MoveReason.CONSUMPTION, quantity__gt=0).get()
    assert (back.document_kind, back.document_id, back.quantity) == ("work_order", visit.order.pk, Decimal("1.5"))
    assert drift() == []


def test_removing_an_entry_whose_part_is_on_its_way_back_is_refused(visit):
    on_site(visit)
    motor = visit.machine.fitted_parts.get(part=visit.motor)
    usage = services.use_part(visit.order, actor=visit.engineer, part=None, quantity=1, replaces=motor)
    defect = DefectivePart.objects.get()
    inventory_services.request_transfer(
        actor=visit.engineer, kind="return", source=van(visit), destination=visit.store, defects=[defect]
    )
    with pytest.raises(DomainError):
        services.remove_part_usage(usage, actor=visit.engineer)
    assert PartUsage.objects.filter(pk=usage.pk).exists()
    assert held(van(visit), visit.motor) == 4


def test_completion_still_updates_the_machine_and_the_books_add_up(visit, django_capture_on_commit_callbacks):
    ready_to_complete(visit)
    with django_capture_on_commit_callbacks(execute=False):
        services.complete_visit(visit.order, actor=visit.engineer)
    assert visit.machine.fitted_parts.get(part=visit.motor).part_serial_number == "M-NEW-1"
    assert held(van(visit), visit.motor) == 4 and held(van(visit), visit.seal) == 8
    assert DefectivePart.objects.get().part == visit.motor
    assert van(visit).kind == WarehouseKind.VAN
    assert drift() == []


def test_a_scanned_serial_names_a_unit_only_in_the_engineers_own_van(personas):
    from fieldservice.field.forms import resolve_code

    part = factories.part(tracking="serial")
    mine, theirs = factories.engineer(personas.own), factories.engineer(personas.own)
    factories.fill_van(mine, part, 1, serials=["MINE-1"])
    factories.fill_van(theirs, part, 1, serials=["THEIRS-1"])
    assert resolve_code(mine, "MINE-1") == (part, "MINE-1")
    assert resolve_code(mine, "THEIRS-1") == (None, "")
