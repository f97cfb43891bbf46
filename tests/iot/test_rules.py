"""The rules, driven through the one ingest path: mapped alarms and threshold rules open one
proactive order (channel IoT) per machine and cause, a storm adds to it, a clear is noted, a
closed order lets the cause open a new one; a meter reaching a plan's usage interval opens the
plan's visit; the customer is told when the administrator wants it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from fieldservice.assets.models import MeterReading
from fieldservice.core import outbox
from fieldservice.dispatch.models import Assignment
from fieldservice.dispatch.rules import services as dispatch_rules
from fieldservice.iot.models import Alarm, Incident, RuleState
from fieldservice.iot.services.ingest import ingest
from fieldservice.maintenance.models import DueVisit
from fieldservice.notifications.models import Notification
from fieldservice.workorders.choices import Channel
from fieldservice.workorders.models import FaultCategoryPart, NeededPart, WorkOrder, WorkOrderEvent
from fieldservice.workorders.services.lifecycle import cancel_work_order
from tests import factories
from tests.iot import factories as iot
from tests.maintenance import plan_factories

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def ago(minutes):
    return NOW - dt.timedelta(minutes=minutes)


def send(token, now=NOW, **body):
    (outcome,) = ingest([iot.mqtt(token, **body)], now=now)
    assert outcome.ok, outcome
    return outcome


def iot_orders(machine):
    return WorkOrder.objects.filter(equipment=machine, request__channel=Channel.IOT)


def test_a_mapped_alarm_opens_one_iot_order_with_its_priority_and_fault_category(personas):
    category = factories.fault_category("hydraulics")
    part = factories.part()
    FaultCategoryPart.objects.create(category=category, part=part, quantity=Decimal("2"))
    iot.alarm_code(personas.admin, "E101", fault_category=category.pk, priority="urgent")
    device, token = iot.device(personas.admin, personas.customer_a)
    machine = device.machines.get()

    send(token, alarms=[iot.alarm("E101", at=ago(5), severity="critical", message="Oil too hot")])

    order = iot_orders(machine).get()
    assert order.priority == "urgent" and order.fault_category == category and order.created_by is None
    assert order.request.channel == Channel.IOT and order.request.fault_category == category
    assert "E101" in order.description and "critical" in order.description
    assert NeededPart.objects.filter(work_order=order, part=part, quantity=2).exists()
    incident = Incident.objects.get(equipment=machine)
    assert incident.cause == "alarm:E101" and incident.work_order == order and incident.closed_at is None
    assert Alarm.objects.get(equipment=machine).work_order == order


def test_an_unmapped_or_non_opening_code_opens_nothing_but_the_alarm_is_stored(personas):
    iot.alarm_code(personas.admin, "I200", opens_order=False)
    device, token = iot.device(personas.admin, personas.customer_a)

    send(token, alarms=[iot.alarm("E999", at=ago(3)), iot.alarm("I200", at=ago(2))])

    assert Alarm.objects.filter(equipment=device.machines.get()).count() == 2
    assert not WorkOrder.objects.exists() and not Incident.objects.exists()


def test_a_storm_of_repeats_adds_to_the_one_order(personas):
    iot.alarm_code(personas.admin, "E101")
    device, token = iot.device(personas.admin, personas.customer_a)
    machine = device.machines.get()
    send(token, alarms=[iot.alarm("E101", at=ago(30))])

    for minute in range(29, 0, -1):
        send(token, now=ago(minute - 1), alarms=[iot.alarm("E101", at=ago(minute))])

    order = iot_orders(machine).get()
    incident = Incident.objects.get(equipment=machine)
    assert incident.fired == 30 and len(incident.evidence) == 20
    # Throttled: one "fired again" line per quarter of an hour, not one per repeat.
    lines = WorkOrderEvent.objects.filter(work_order=order, action="iot_fired_again").count()
    assert 1 <= lines <= 2


def test_a_cleared_alarm_is_noted_on_the_order_and_the_incident(personas):
    iot.alarm_code(personas.admin, "E101")
    device, token = iot.device(personas.admin, personas.customer_a)
    send(token, alarms=[iot.alarm("E101", at=ago(10))])

    send(token, alarms=[iot.alarm("E101", state="cleared", at=ago(2))])

    order = iot_orders(device.machines.get()).get()
    note = WorkOrderEvent.objects.get(work_order=order, action="iot_alarm_cleared").note
    assert "E101" in note
    assert Incident.objects.get().evidence[-1]["cleared"] is True


def test_a_closed_order_lets_the_same_cause_open_a_new_one(personas):
    iot.alarm_code(personas.admin, "E101")
    device, token = iot.device(personas.admin, personas.customer_a)
    machine = device.machines.get()
    send(token, alarms=[iot.alarm("E101", at=ago(60))])
    first = iot_orders(machine).get()

    cancel_work_order(first, actor=personas.dispatcher, reason="Handled on the phone")
    assert Incident.objects.get().closed_at is not None
    send(token, alarms=[iot.alarm("E101", at=ago(30))])  # still raised: a repeat

    assert iot_orders(machine).count() == 2
    assert Incident.objects.filter(closed_at__isnull=True).get().work_order != first


def test_above_for_n_minutes_fires_only_once_it_held_that_long(personas):
    rule = iot.threshold_rule(personas.admin, "temperature", "above", value=80, window_minutes=10)
    device, token = iot.device(personas.admin, personas.customer_a)
    machine = device.machines.get()

    send(token, readings=[iot.reading(value=v, at=ago(m)) for v, m in [(85, 20), (86, 15), (79, 14)]])
    assert not RuleState.objects.exists()  # broken by the last reading
    send(token, readings=[iot.reading(value=v, at=ago(m)) for v, m in [(85, 12), (88, 6)]])
    assert not WorkOrder.objects.exists()  # held 6 minutes only
    assert RuleState.objects.get(rule=rule, equipment=machine).since == ago(12)

    send(token, readings=[iot.reading(value=90, at=ago(1))])  # 11 minutes

    order = iot_orders(machine).get()
    assert rule.name in order.description and "temperature = 90" in order.description
    assert Incident.objects.get().cause == f"rule:{rule.pk}"
    send(token, readings=[iot.reading(value=91, at=ago(0))])  # still holding: the same order
    assert iot_orders(machine).count() == 1 and Incident.objects.get().fired == 2


def test_a_condition_that_held_long_enough_and_then_broke_in_one_batch_fires_once(personas):
    """A gateway's hourly message carries the whole story: too hot for 20 minutes, then cooled."""
    rule = iot.threshold_rule(personas.admin, "temperature", "above", value=80, window_minutes=10)
    device, token = iot.device(personas.admin, personas.customer_a)
    machine = device.machines.get()

    send(token, readings=[iot.reading(value=v, at=ago(m)) for v, m in [(85, 30), (87, 20), (86, 10), (70, 5)]])

    order = iot_orders(machine).get()
    assert "temperature = 86" in order.description  # the evidence of the run that fired
    assert not RuleState.objects.filter(rule=rule).exists()  # broken by the last reading
    assert [e["value"] for e in Incident.objects.get().evidence] == [85, 87, 86]


def test_a_rule_for_another_model_ignores_the_machine(personas):
    iot.threshold_rule(
        personas.admin, "temperature", "above", value=80, window_minutes=1, product_model=factories.product_model()
    )
    device, token = iot.device(personas.admin, personas.customer_a)

    send(token, readings=[iot.reading(value=95, at=ago(m)) for m in (10, 5, 1)])

    assert not WorkOrder.objects.exists() and not RuleState.objects.exists()


def test_a_rate_rule_compares_with_the_reading_before_the_window(personas):
    iot.threshold_rule(personas.admin, "vibration", "rate", value=10, window_minutes=60)
    device, token = iot.device(personas.admin, personas.customer_a)
    machine = device.machines.get()
    send(token, readings=[iot.reading("vibration", 5, at=ago(120), unit="mm/s")])

    send(token, readings=[iot.reading("vibration", 12, at=ago(30), unit="mm/s")])  # 7 in 90 minutes
    assert not WorkOrder.objects.exists()
    send(token, readings=[iot.reading("vibration", 40, at=ago(0), unit="mm/s")])  # 35 in 2 hours

    order = iot_orders(machine).get()
    assert "vibration = 5" in order.description and "vibration = 40" in order.description


def test_a_meter_reaching_the_plans_usage_interval_opens_its_visit_once(personas):
    iot.threshold_rule(personas.admin, "operating_hours", "plan_usage")
    device, token = iot.device(personas.admin, personas.customer_a)
    machine = device.machines.get()
    plan = plan_factories.plan(equipment=machine, interval_hours=500, meter="operating_hours", lead_days=7)

    send(token, readings=[iot.reading("operating_hours", 420, at=ago(300), unit="h")])
    send(token, readings=[iot.reading("operating_hours", 430, at=ago(290), unit="h")])  # within the hour
    assert list(MeterReading.objects.filter(equipment=machine).values_list("value", flat=True)) == [420]
    assert not DueVisit.objects.exists()

    send(token, readings=[iot.reading("operating_hours", 501, at=ago(200), unit="h")])
    send(token, readings=[iot.reading("operating_hours", 560, at=ago(100), unit="h")])

    visit = DueVisit.objects.get(plan=plan, equipment=machine)
    assert visit.meter_value == 500 and visit.work_order is not None
    assert WorkOrder.objects.filter(equipment=machine).count() == 1  # the visit is the order
    assert not Incident.objects.exists()
    assert MeterReading.objects.filter(equipment=machine, source="iot").count() == 3


def test_the_customer_is_told_when_the_code_says_so(personas, django_capture_on_commit_callbacks):
    iot.alarm_code(personas.admin, "E101", notify_customer=True)
    iot.alarm_code(personas.admin, "E102")
    device, token = iot.device(personas.admin, personas.customer_a)

    send(token, alarms=[iot.alarm("E101", at=ago(5)), iot.alarm("E102", at=ago(4))])
    outbox.drain()

    told = iot_orders(device.machines.get()).get(description__contains="E101")
    notes = Notification.objects.filter(event="iot.order_opened")
    assert {n.recipient for n in notes} == {personas.customer_user_a}
    assert told.number in notes.get().title


def test_an_auto_dispatch_rule_routes_the_iot_order(personas):
    outbox.drain()
    dispatch_rules.create_rule(
        actor=personas.admin,
        name="All to B",
        target_kind="provider",
        target_provider=personas.provider,
        strategy="fixed",
    )
    iot.alarm_code(personas.admin, "E101")
    device, token = iot.device(personas.admin, personas.customer_a)

    send(token, alarms=[iot.alarm("E101", at=ago(5))])
    outbox.drain()

    order = iot_orders(device.machines.get()).get()
    assert Assignment.objects.get(work_order=order).provider == personas.provider
