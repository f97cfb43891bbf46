"""The demo's customer care (maintenance.demo_care), seeded on a small world: a closed festival
greeting with its effect, and a running round of calls with some done."""

import datetime as dt
import random

import pytest
from django.utils import timezone

from fieldservice.maintenance import demo_care
from fieldservice.maintenance.models import CarePlan, CareTouch
from fieldservice.maintenance.selectors import care as selectors
from fieldservice.workorders.models import ServiceRequest
from tests import factories
from tests.maintenance import care_helpers as h

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_a_closed_greeting_and_running_calls(personas):
    customers = h.key_customers(personas.admin, 3)
    today = timezone.localdate()
    for customer in customers:
        factories.equipment(customer, actor=personas.admin, warranty_ends_on=today - dt.timedelta(days=20))
    festival = demo_care._last_festival(today)
    request = factories.service_request(customers[1], actor=personas.agent)
    ServiceRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.make_aware(dt.datetime.combine(festival + dt.timedelta(days=5), dt.time(10)))
    )

    greeting, calls = demo_care.seed(rng=random.Random(1), agent=personas.agent, director=personas.director)

    greeting.refresh_from_db()
    calls.refresh_from_db()
    assert (greeting.status, greeting.method, greeting.starts_on) == ("closed", "sms", festival)
    effect = selectors.effect_of(greeting)
    assert (effect.touched, effect.requests) == (3, 1)
    assert CareTouch.objects.filter(plan=greeting, touched_at__date=festival).count() == 3
    assert (calls.status, calls.method) == ("running", "call")
    tasks = CareTouch.objects.filter(plan=calls)
    assert tasks.filter(done_at__isnull=False).exists()
    assert set(tasks.values_list("assignee_id", flat=True)) <= {personas.agent.pk, personas.director.pk}
    assert CarePlan.objects.count() == 2
