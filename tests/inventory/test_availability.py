"""Who carries these: the available good stock of some parts in engineers' vans and in warehouses,
answered from the balances in one query."""

from decimal import Decimal

from fieldservice.inventory.choices import Grade, MoveReason
from fieldservice.inventory.selectors import availability, carried_by, coverage
from fieldservice.inventory.services import Line, post, van_for
from tests import factories


def fill(warehouse, part, quantity, *, lot="", grade=Grade.GOOD, reserved=0):
    post(
        [
            Line(
                warehouse,
                part,
                MoveReason.TRANSFER_IN,
                quantity=Decimal(quantity),
                reserved=Decimal(reserved),
                lot=lot,
                grade=grade,
            )
        ],
        actor=factories.system_user(),
    )


def test_carried_by_sums_lots_leaves_out_reserved_and_defective_stock(personas, django_assert_num_queries):
    engineer, other = personas.engineer, personas.provider_engineer
    pump, seal, filter_ = factories.part(), factories.part(), factories.part()
    van = van_for(engineer)
    fill(van, pump, 2, lot="A")
    fill(van, pump, 3, lot="B")
    fill(van, seal, 4, reserved=4)  # all promised to a requisition: not available
    fill(van, filter_, 5, grade=Grade.DEFECTIVE)  # removed from a machine: not usable
    fill(van_for(other), seal, 1)
    needs = {pump.pk: Decimal(1), seal.pk: Decimal(1), filter_.pk: Decimal(1)}

    with django_assert_num_queries(1):
        carried = carried_by([engineer.pk, other.pk, personas.dispatcher.pk], needs)

    assert carried == {engineer.pk: {pump.pk: Decimal(5)}, other.pk: {seal.pk: Decimal(1)}, personas.dispatcher.pk: {}}


def test_a_warehouse_is_not_a_van_and_an_inactive_van_carries_nothing(personas):
    part = factories.part()
    factories.stock(factories.warehouse(), part, 10)
    van = van_for(personas.engineer)
    fill(van, part, 2)
    assert carried_by([personas.engineer.pk], {part.pk: Decimal(1)}) == {personas.engineer.pk: {part.pk: Decimal(2)}}
    van.is_active = False
    van.save(update_fields=["is_active"])
    assert carried_by([personas.engineer.pk], {part.pk: Decimal(1)}) == {personas.engineer.pk: {}}


def test_availability_per_warehouse_and_part_scoped_to_the_warehouses_given(personas, django_assert_num_queries):
    pump, seal = factories.part(), factories.part()
    central, regional = factories.warehouse(), factories.warehouse(kind="regional")
    factories.stock(central, pump, 7)
    factories.stock(central, seal, 1)
    factories.stock(regional, seal, 3)
    van = van_for(personas.engineer)
    fill(van, pump, 1)

    with django_assert_num_queries(1):
        everywhere = availability([pump.pk, seal.pk])
    assert everywhere == {
        central.pk: {pump.pk: Decimal(7), seal.pk: Decimal(1)},
        regional.pk: {seal.pk: Decimal(3)},
        van.pk: {pump.pk: Decimal(1)},
    }
    assert availability([pump.pk, seal.pk], [regional.pk]) == {regional.pk: {seal.pk: Decimal(3)}}
    assert availability([pump.pk], []) == {}
    assert availability([], None) == {}


def test_coverage_says_all_some_or_none_with_what_is_missing():
    assert coverage({}, {}).status == ""
    assert coverage({1: Decimal(2)}, {1: Decimal(2)}).status == "all"
    some = coverage({1: Decimal(2), 2: Decimal(1)}, {1: Decimal(1)})
    assert (some.status, some.missing) == ("some", {1: Decimal(1), 2: Decimal(1)})
    none = coverage({1: Decimal(2)}, {3: Decimal(9)})
    assert (none.status, none.missing) == ("none", {1: Decimal(2)})
