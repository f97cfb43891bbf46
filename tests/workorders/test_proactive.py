"""The set-based order path: open_proactive_orders (many visits at once, entitlement decided in
bulk, numbers, log lines, outbox messages, needed parts), the created-many hooks and the SLA
clocks it starts; create_work_order writes through the same path."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fieldservice.assets.services import invalidate_equipment
from fieldservice.core.models import OutboxMessage
from fieldservice.sla.models import BusinessCalendar, SlaClock, SlaPolicy, SlaTarget
from fieldservice.workorders import hooks
from fieldservice.workorders.choices import Channel, NeededPartSource, RequestStatus
from fieldservice.workorders.models import NeededPart, ServiceRequest, WorkOrder, WorkOrderEvent
from fieldservice.workorders.services.proactive import ProactiveSpec, open_proactive_orders
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook_calls():
    calls = {"many": [], "one": []}

    def many(orders):
        calls["many"].append([order.pk for order in orders])

    def one(order):
        calls["one"].append(order.pk)

    hooks.on_created_many(many)
    hooks.on_created(one)
    yield calls
    hooks._created_many.remove(many)
    hooks._created.remove(one)


def machine(customer, **fields):
    return factories.equipment(customer, site=factories.site(customer), **fields)


def test_many_visits_at_once(personas, hook_calls):
    policy = SlaPolicy.objects.filter(is_default=True).first() or SlaPolicy.objects.create(
        code="p", name="P", calendar=BusinessCalendar.objects.create(name="Always"), is_default=True
    )
    SlaTarget.objects.update_or_create(
        policy=policy,
        priority="normal",
        defaults={
            "response_minutes": 60,
            "resolution_minutes": 600,
            "acceptance_minutes": None,
            "arrival_minutes": None,
        },
    )
    part = factories.part()
    in_warranty = machine(
        personas.customer_a, warranty_starts_on=dt.date(2020, 1, 1), warranty_ends_on=dt.date(2070, 1, 1)
    )
    covered = machine(personas.customer_a)
    contract = factories.contract(personas.customer_a, machines=[covered], activate=True, included_visits=1)
    covered_twice = ProactiveSpec(covered, description="Second visit")
    plain = machine(personas.customer_z)
    specs = [
        ProactiveSpec(in_warranty, description="Yearly service", parts=[(part.pk, Decimal("2"))], note="Plan X"),
        ProactiveSpec(covered, description="First visit", service_type="inspection"),
        covered_twice,
        ProactiveSpec(plain, description="Yearly service", priority="high"),
    ]

    orders = open_proactive_orders(specs, actor=personas.dispatcher)

    assert [order.equipment_id for order in orders] == [in_warranty.pk, covered.pk, covered.pk, plain.pk]
    saved = {order.pk: order for order in WorkOrder.objects.filter(pk__in=[o.pk for o in orders])}
    assert [saved[o.pk].entitlement for o in orders] == ["warranty", "contract", "chargeable", "chargeable"]
    assert saved[orders[1].pk].contract_id == contract.pk and saved[orders[2].pk].contract_id is None
    assert saved[orders[1].pk].service_type == "inspection" and saved[orders[3].pk].priority == "high"
    for order in orders:
        assert saved[order.pk].number == f"WO{order.pk:07d}"
        request = saved[order.pk].request
        assert (request.channel, request.status, request.number) == (
            Channel.PROACTIVE,
            RequestStatus.CONVERTED,
            f"SR{request.pk:07d}",
        )
    assert ServiceRequest.objects.filter(channel=Channel.PROACTIVE).count() == 4
    assert list(NeededPart.objects.values_list("work_order_id", "part_id", "quantity", "source")) == [
        (orders[0].pk, part.pk, Decimal("2"), NeededPartSource.PLAN)
    ]
    assert WorkOrderEvent.objects.get(work_order_id=orders[0].pk, action="created").note == "Plan X"
    assert OutboxMessage.objects.filter(topic="work_order.created").count() == 4
    # The many-hooks once with them all, the per-order hooks for each.
    assert hook_calls["many"] == [[o.pk for o in orders]]
    assert hook_calls["one"] == [o.pk for o in orders]
    # SLA clocks started set-based, for the orders under the default policy's normal target.
    clocked = set(SlaClock.objects.values_list("work_order_id", flat=True))
    assert {o.pk for o in orders if saved[o.pk].priority == "normal"} <= clocked
    assert SlaClock.objects.filter(work_order_id=orders[0].pk).count() == 2


def test_a_visit_planned_for_a_day_starts_no_clocks(personas):
    """Response clocks count from creation: a visit opened weeks before its day would breach them
    long before it is due, so a planned visit is measured against its day instead."""
    policy = SlaPolicy.objects.filter(is_default=True).first() or SlaPolicy.objects.create(
        code="p", name="P", calendar=BusinessCalendar.objects.create(name="Always"), is_default=True
    )
    SlaTarget.objects.update_or_create(
        policy=policy, priority="normal", defaults={"response_minutes": 60, "arrival_minutes": 600}
    )
    due = dt.date.today() + dt.timedelta(days=25)
    planned, unplanned = open_proactive_orders(
        [
            ProactiveSpec(machine(personas.customer_a), description="Service", planned_for=due),
            ProactiveSpec(machine(personas.customer_a), description="Service"),
        ],
        actor=personas.dispatcher,
    )

    assert WorkOrder.objects.get(pk=planned.pk).planned_for == due
    assert WorkOrder.objects.get(pk=unplanned.pk).planned_for is None
    assert WorkOrder.objects.get(pk=planned.pk).sla_policy_id == policy.pk  # still decided
    assert not SlaClock.objects.filter(work_order_id=planned.pk).exists()
    assert {"response", "arrival"} <= set(
        SlaClock.objects.filter(work_order_id=unplanned.pk).values_list("kind", flat=True)
    )


def test_one_bad_spec_refuses_the_batch(personas):
    good = machine(personas.customer_a)
    bad = machine(personas.customer_a)
    invalidate_equipment(bad, actor=personas.admin, reason="Gone")
    bad.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        open_proactive_orders(
            [ProactiveSpec(good, description="x"), ProactiveSpec(bad, description="x")], actor=personas.dispatcher
        )
    assert "specs[1].equipment" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        open_proactive_orders([ProactiveSpec(good, description=" ")], actor=personas.dispatcher)
    assert "specs[0].description" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        open_proactive_orders([ProactiveSpec(good, description="x")], actor=personas.customer_user_a)
    assert not WorkOrder.objects.exists() and not ServiceRequest.objects.exists()


def test_create_work_order_runs_the_same_hooks(personas, hook_calls):
    order = factories.work_order(personas.customer_a)
    assert hook_calls["many"] == [[order.pk]] and hook_calls["one"] == [order.pk]
    assert WorkOrder.objects.get(pk=order.pk).number == f"WO{order.pk:07d}"
    assert WorkOrderEvent.objects.filter(work_order=order, action="created").count() == 1
