"""Two ingest batches firing the same cause for the same machine at the same moment, on
PostgreSQL: one order, and the second batch's firing is added to its incident."""

import datetime as dt

import pytest
from django.utils import timezone

from fieldservice.iot.models import Incident
from fieldservice.iot.services.ingest import ingest
from fieldservice.workorders.models import WorkOrder
from tests.concurrency import run_concurrently
from tests.iot import factories as iot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


@pytest.mark.parametrize("attempt", range(3))
def test_two_batches_firing_one_rule_at_once_open_one_order(personas, attempt):
    now = timezone.now().replace(microsecond=0)
    iot.threshold_rule(personas.admin, "temperature", "above", value=80, window_minutes=5)
    device, token = iot.device(personas.admin, personas.customer_a)
    machine = device.machines.get()

    def batch(offset):
        readings = [iot.reading(value=90 + offset, at=now - dt.timedelta(minutes=m, seconds=offset)) for m in (8, 1)]
        return lambda: ingest([iot.mqtt(token, readings=readings)], now=now)

    outcomes = run_concurrently(batch(1), batch(2))

    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert all(outcome.ok for _kind, result in outcomes for outcome in result)
    assert WorkOrder.objects.filter(equipment=machine).count() == 1
    incident = Incident.objects.get(equipment=machine)
    assert incident.fired == 2 and incident.work_order is not None
