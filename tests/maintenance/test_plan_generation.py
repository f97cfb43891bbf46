"""Generation of maintenance visits: due dates by the calendar and by usage, the lead days, once
per machine and day however often (or however concurrently) it runs, the orders it opens."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from fieldservice.assets.choices import MeterSource
from fieldservice.assets.services import invalidate_equipment, record_meter_reading
from fieldservice.core.models import OutboxMessage
from fieldservice.maintenance.models import CalendarBase, DueReason, DueVisit
from fieldservice.maintenance.services import plans as svc
from fieldservice.sla.models import SlaTarget
from fieldservice.workorders.choices import Channel, NeededPartSource, RequestStatus, ServiceType
from fieldservice.workorders.models import NeededPart, WorkOrder, WorkOrderEvent
from tests import factories
from tests.concurrency import run_concurrently
from tests.maintenance.plan_factories import machine, plan

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 10)


def generate(actor=None, today=TODAY, **kwargs):
    return svc.generate_due_visits(actor=actor, today=today, **kwargs)


def test_calendar_from_installation_due_within_lead_days_opens_one_order(personas):
    model = factories.product_model()
    due_soon = machine(personas.customer_a, model=model, installed_on=dt.date(2025, 12, 20))  # due 2026-06-20
    later = machine(personas.customer_a, model=model, installed_on=dt.date(2026, 1, 20))  # due 2026-07-20
    part = factories.part()
    made = plan(product_model=model, interval_months=6, lead_days=14, parts=[(part, "2")], priority="high")

    summary = generate()

    assert summary.orders_opened == 1
    visit = DueVisit.objects.get()
    assert (visit.equipment_id, visit.due_on, visit.reason) == (due_soon.pk, dt.date(2026, 6, 20), DueReason.CALENDAR)
    order = visit.work_order
    assert order.equipment_id == due_soon.pk and order.service_type == ServiceType.MAINTENANCE
    assert order.priority == "high" and order.number == f"WO{order.pk:07d}"
    assert order.request.channel == Channel.PROACTIVE and order.request.status == RequestStatus.CONVERTED
    assert order.request.number == f"SR{order.request.pk:07d}"
    assert order.site_id == due_soon.site_id
    assert made.name in order.description and "2026-06-20" in order.description
    # Planned for its due day, so no SLA clock counts from its creation, 10 days before (the
    # policy it is under has a target for its priority: an unplanned order would have clocks).
    assert SlaTarget.objects.filter(policy_id=order.sla_policy_id, priority="high", response_minutes__gt=0).exists()
    assert order.planned_for == dt.date(2026, 6, 20) and not order.sla_clocks.exists()
    needed = NeededPart.objects.get(work_order=order)
    assert (needed.part_id, needed.quantity, needed.source) == (part.pk, Decimal("2"), NeededPartSource.PLAN)
    assert WorkOrderEvent.objects.filter(work_order=order, action="created").count() == 1
    assert OutboxMessage.objects.filter(topic="work_order.created", payload__work_order=order.pk).count() == 1
    assert not DueVisit.objects.filter(equipment=later).exists()


def test_a_second_run_creates_nothing_and_the_next_period_comes_later(personas):
    model = factories.product_model()
    machine(personas.customer_a, model=model, installed_on=dt.date(2025, 12, 20))
    plan(product_model=model, interval_months=6, lead_days=14)
    assert generate().orders_opened == 1
    orders = WorkOrder.objects.count()

    second = generate()

    assert (second.due_written, second.orders_opened) == (0, 0)
    assert WorkOrder.objects.count() == orders
    # Six months on, the next visit is due (and only that one).
    assert generate(today=dt.date(2026, 12, 10)).orders_opened == 1
    assert sorted(DueVisit.objects.values_list("due_on", flat=True)) == [dt.date(2026, 6, 20), dt.date(2026, 12, 20)]


def test_calendar_from_last_visit_counts_from_the_completed_visit(personas):
    unit = machine(personas.customer_a, installed_on=dt.date(2020, 1, 1))
    plan(equipment=unit, interval_months=3, calendar_base=CalendarBase.LAST_VISIT, lead_days=10)
    # Never visited: due now.
    assert generate().orders_opened == 1
    assert DueVisit.objects.get().due_on == TODAY
    # The next counts from the last due visit: three months on.
    assert generate(today=dt.date(2026, 9, 1)).orders_opened == 1
    assert DueVisit.objects.order_by("-due_on").first().due_on == dt.date(2026, 9, 10)


def test_usage_plan_projects_the_meter_and_keeps_the_threshold(personas):
    unit = machine(personas.customer_a, installed_on=dt.date(2024, 1, 1))
    at = timezone.make_aware(dt.datetime(2026, 5, 1, 12))
    record_meter_reading(unit, actor=personas.admin, value="100", source=MeterSource.OFFICE, read_at=at)
    # 20 hours a day: 500 hours are reached on 2026-05-26, 1000 on 2026-06-20.
    record_meter_reading(
        unit, actor=personas.admin, value="400", source=MeterSource.OFFICE, read_at=at + dt.timedelta(days=15)
    )
    plan(equipment=unit, interval_months=None, interval_hours=500, lead_days=14)

    assert generate(today=dt.date(2026, 5, 20)).orders_opened == 1
    visit = DueVisit.objects.get()
    assert (visit.due_on, visit.reason, visit.meter_value) == (dt.date(2026, 5, 21), DueReason.USAGE, Decimal(500))
    # The next one counts from 500, not from the reading: 1000 hours.
    assert generate(today=dt.date(2026, 6, 10)).orders_opened == 1
    assert DueVisit.objects.order_by("-due_on").first().meter_value == Decimal(1000)


def test_both_whichever_comes_first(personas):
    unit = machine(personas.customer_a, installed_on=dt.date(2025, 12, 30))  # calendar: 2026-06-30
    at = timezone.make_aware(dt.datetime(2026, 4, 1, 12))
    record_meter_reading(unit, actor=personas.admin, value="0", source=MeterSource.OFFICE, read_at=at)
    record_meter_reading(
        unit, actor=personas.admin, value="450", source=MeterSource.OFFICE, read_at=at + dt.timedelta(days=50)
    )  # 9 h a day: 500 h on 2026-05-27, 1000 h on 2026-07-22
    plan(equipment=unit, interval_months=6, interval_hours=500, lead_days=30)

    generate(today=dt.date(2026, 5, 22))
    visit = DueVisit.objects.get()
    assert (visit.due_on, visit.reason, visit.meter_value) == (dt.date(2026, 5, 27), DueReason.USAGE, Decimal(500))
    # Then the calendar comes first: 2026-06-30, before 1000 h.
    generate(today=dt.date(2026, 6, 20))
    last = DueVisit.objects.order_by("-due_on").first()
    assert (last.due_on, last.reason) == (dt.date(2026, 6, 30), DueReason.CALENDAR)
    assert DueVisit.objects.count() == 2


def test_plan_end_inactive_plans_and_invalidated_machines_make_nothing(personas):
    model = factories.product_model()
    unit = machine(personas.customer_a, model=model, installed_on=dt.date(2025, 12, 20))
    ended = plan(product_model=model, interval_months=6, lead_days=14, ends_on=dt.date(2026, 6, 15))
    assert generate().orders_opened == 0
    svc.update_plan(ended, actor=personas.admin, ends_on=None, is_active=False)
    assert generate().orders_opened == 0
    svc.update_plan(ended, actor=personas.admin, is_active=True)
    invalidate_equipment(unit, actor=personas.admin, reason="Scrapped")
    assert generate().orders_opened == 0
    assert not DueVisit.objects.exists()


def test_two_plans_on_one_machine_and_day_make_one_visit(personas):
    model = factories.product_model()
    unit = machine(personas.customer_a, model=model, installed_on=dt.date(2025, 12, 20))
    plan(product_model=model, interval_months=6, lead_days=14)
    plan(equipment=unit, interval_months=3, lead_days=14)
    assert generate().orders_opened == 1
    assert DueVisit.objects.get().equipment_id == unit.pk


def test_contract_plan_spreads_its_visits_over_the_year(personas):
    unit = machine(personas.customer_a, installed_on=dt.date(2025, 3, 20))
    contract = factories.contract(
        personas.customer_a,
        machines=[unit],
        activate=True,
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
        maintenance_visits_per_year=4,
        included_visits=10,
    )
    plan(contract=contract, lead_days=14)
    generate()
    visit = DueVisit.objects.get()
    assert visit.due_on == dt.date(2026, 6, 20)  # every 3 months from installation
    assert visit.work_order.contract_id == contract.pk and visit.work_order.entitlement == "contract"


def test_a_person_needs_the_capability_to_generate(personas):
    with pytest.raises(PermissionDenied):
        generate(actor=personas.agent)
    assert generate(actor=personas.dispatcher).plans == 0


def test_plan_orders_follow_the_plans_template(personas):
    """A template picked at creation (any maintenance of the model) gives way to the plan's own."""
    from fieldservice.field.models import JobTemplate

    model = factories.product_model()
    machine(personas.customer_a, model=model, installed_on=dt.date(2025, 12, 20))
    general = JobTemplate.objects.create(name="general", service_type="maintenance", product_model=model)
    general.steps.create(position=1, kind="instruction", title="general step")
    named = JobTemplate.objects.create(name="plan's own", service_type="maintenance")
    named.steps.create(position=1, kind="yes_no", title="plan step one")
    named.steps.create(position=2, kind="text", title="plan step two")
    plan(product_model=model, interval_months=6, lead_days=14, job_template=named)
    generate()
    order = DueVisit.objects.get().work_order
    assert list(order.job_steps.values_list("title", flat=True)) == ["plan step one", "plan step two"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_open_each_visit_once(postgres_only):
    factories.system_user()
    model = factories.product_model()
    customer = factories.customer()
    for day in range(1, 11):
        machine(customer, model=model, installed_on=dt.date(2025, 12, day + 10))
    plan(product_model=model, interval_months=6, lead_days=30)

    outcomes = run_concurrently(generate, generate, generate)

    assert all(kind == "ok" for kind, _value in outcomes), outcomes
    assert sum(value.orders_opened for _kind, value in outcomes) == 10
    assert DueVisit.objects.count() == 10 and WorkOrder.objects.count() == 10
    assert DueVisit.objects.filter(work_order__isnull=True).count() == 0


def test_a_run_narrowed_to_machines_opens_only_theirs(personas):
    model = factories.product_model()
    first = machine(personas.customer_a, model=model, installed_on=dt.date(2025, 12, 20))  # due 2026-06-20
    second = machine(personas.customer_a, model=model, installed_on=dt.date(2025, 12, 22))  # due 2026-06-22
    plan(product_model=model, interval_months=6, lead_days=14)

    assert generate(equipment_ids=[second.pk]).orders_opened == 1
    assert list(DueVisit.objects.values_list("equipment_id", flat=True)) == [second.pk]
    assert generate().orders_opened == 1  # the other machine's, on the whole run
    assert {first.pk, second.pk} == set(DueVisit.objects.values_list("equipment_id", flat=True))


def test_a_meter_that_just_passed_a_threshold_is_due_now_when_told_the_reading_before(personas):
    unit = machine(personas.customer_a, installed_on=dt.date(2024, 1, 1))
    at = timezone.make_aware(dt.datetime(2026, 6, 9, 12))
    record_meter_reading(unit, actor=personas.admin, value="480", source=MeterSource.OFFICE, read_at=at)
    record_meter_reading(
        unit, actor=personas.admin, value="505", source=MeterSource.OFFICE, read_at=at + dt.timedelta(hours=2)
    )
    made = plan(equipment=unit, interval_months=None, interval_hours=500, lead_days=7)

    # Counted from the reading alone, the next threshold is 1000 hours: nothing due.
    assert generate(plan_ids=[made.pk]).orders_opened == 0
    # Told the reading before the newest (480), the 500 hours just passed are due today.
    summary = generate(
        plan_ids=[made.pk], equipment_ids=[unit.pk], meter_before={("operating_hours", unit.pk): Decimal(480)}
    )
    assert summary.orders_opened == 1
    visit = DueVisit.objects.get()
    assert (visit.due_on, visit.reason, visit.meter_value) == (TODAY, DueReason.USAGE, Decimal(500))
