"""The day plan's input builder and parts: an order's needed parts are its job's demand (whole units,
rounded up), each engineer's van stock of them his stock (rounded down); an organisation's central
warehouse with coordinates is the depot where an engineer may collect what his van lacks."""

from decimal import Decimal

from fieldservice.inventory.choices import MoveReason
from fieldservice.inventory.services import Line, post, van_for
from fieldservice.planning import inputs
from fieldservice.planning.optimiser import GeoPoint, solve
from fieldservice.workorders.services.needed_parts import set_needed_parts
from tests import factories


def fill(warehouse, part, quantity, reserved=0):
    post(
        [Line(warehouse, part, MoveReason.TRANSFER_IN, quantity=Decimal(quantity), reserved=Decimal(reserved))],
        actor=factories.system_user(),
    )


def build(world):
    return inputs.build(day=world.day, organisation_id=world.own.pk, team=world.team, area=None)


def job_of(built, order):
    return next(job for job in built.problem.jobs if job.id == f"o{order.pk}")


def resource_of(built, engineer):
    return next(r for r in built.problem.resources if r.id == f"e{engineer.pk}")


def test_needed_parts_are_the_jobs_demand_and_the_vans_the_engineers_stock(team_world, django_assert_max_num_queries):
    w = team_world
    pump, seal = factories.part(part_number="PUMP-P"), factories.part(part_number="SEAL-P")
    order, plain_order = w.order(), w.order()
    set_needed_parts(order, actor=w.dispatcher, parts=[(pump, "1.5"), (seal, 1)])
    fill(van_for(w.plain), pump, "3.5")
    fill(van_for(w.plain), seal, 4, reserved=3)  # three promised elsewhere: one free
    fill(van_for(w.skilled), pump, 1)

    built = build(w)

    assert dict(job_of(built, order).demand) == {"PUMP-P": 2, "SEAL-P": 1}
    assert dict(job_of(built, plain_order).demand) == {}
    plain, skilled = resource_of(built, w.plain), resource_of(built, w.skilled)
    assert dict(plain.stock) == dict(plain.capacity) == {"PUMP-P": 3, "SEAL-P": 1}
    assert dict(skilled.stock) == dict(skilled.capacity) == {"PUMP-P": 1}
    assert built.problem.depot is None


def test_only_the_engineer_who_carries_the_parts_is_planned_on_the_order(team_world):
    w = team_world
    pump = factories.part(part_number="PUMP-Q")
    order = w.order(latitude="29.871", longitude="121.551")  # next to the skilled engineer's home
    set_needed_parts(order, actor=w.dispatcher, parts=[(pump, 1)])
    fill(van_for(w.plain), pump, 1)

    plan = solve(build(w).problem, time_limit=2, seed=1)

    assert plan.assignments.get(f"o{order.pk}") == f"e{w.plain.pk}"


def test_nobody_carrying_the_part_leaves_the_order_unplanned(team_world):
    w = team_world
    pump = factories.part(part_number="PUMP-R")
    order = w.order()
    set_needed_parts(order, actor=w.dispatcher, parts=[(pump, 1)])

    plan = solve(build(w).problem, time_limit=2, seed=1)

    assert f"o{order.pk}" not in plan.assignments
    assert f"o{order.pk}" in {item.job_id for item in plan.unplanned}


def test_a_central_warehouse_with_coordinates_is_the_depot_and_adds_to_capacity(team_world):
    w = team_world
    pump = factories.part(part_number="PUMP-S")
    order = w.order()
    set_needed_parts(order, actor=w.dispatcher, parts=[(pump, 2)])
    central = factories.warehouse(w.own, latitude=Decimal("29.95"), longitude=Decimal("121.50"))
    factories.stock(central, pump, 5)
    fill(van_for(w.plain), pump, 1)
    # A central warehouse without coordinates, or a regional one, is no depot.
    factories.stock(factories.warehouse(w.own), pump, 50)
    factories.stock(
        factories.warehouse(w.own, kind="regional", latitude=Decimal("29.9"), longitude=Decimal("121.6")), pump, 50
    )

    built = build(w)

    assert built.problem.depot.location == GeoPoint(29.95, 121.50)
    plain, skilled = resource_of(built, w.plain), resource_of(built, w.skilled)
    assert (dict(plain.stock), dict(plain.capacity)) == ({"PUMP-S": 1}, {"PUMP-S": 6})
    assert (dict(skilled.stock), dict(skilled.capacity)) == ({}, {"PUMP-S": 5})
    # The optimiser (PyVRP) does not put a depot visit into a route of one job (seen here: the lone
    # job is left "not fitted"), so the day has a second order.
    w.order(latitude="29.86", longitude="121.56")
    plan = solve(build(w).problem, time_limit=2, seed=1)
    route = plan.route_for(plan.assignments[f"o{order.pk}"])
    kinds = [(v.kind, v.job_id) for v in route.visits if v.kind != "break"]
    # Nobody's van holds two pumps: whoever goes collects them at the depot first.
    assert kinds.index(("depot", None)) < kinds.index(("job", f"o{order.pk}"))
