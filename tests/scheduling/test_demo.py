"""The demo seed plans visits inside shifts without overlaps and goes through the services."""

import datetime as dt
import random

import pytest
from django.utils import timezone

from fieldservice.scheduling import demo
from fieldservice.scheduling.models import Absence, DurationDefault, Visit
from fieldservice.scheduling.selectors import slot_conflicts
from tests.scheduling.conftest import EVERY_DAY, order_for, profile


def test_seed_plans_open_dispatched_orders(world):
    profile(world.engineer, hours=EVERY_DAY)
    second_order = order_for(world, engineer=world.engineer)
    result = demo.seed(rng=random.Random(1), now=timezone.now())
    assert result["default durations"] >= 5 and DurationDefault.objects.filter(product_model=None).count() == 5
    assert result["absences"] == Absence.objects.count() > 0
    visits = list(Visit.objects.filter(work_order__in=[world.order, second_order]))
    assert len(visits) == 2 == result["visits"]
    for visit in visits:
        assert visit.engineer == world.engineer and visit.planned_start >= timezone.now()
        blocking = [
            c
            for c in slot_conflicts(
                visit.work_order,
                engineer=visit.engineer,
                start=visit.planned_start,
                duration_minutes=visit.duration_minutes,
                ignore_visit=visit,
            )
            if c.blocking
        ]
        assert blocking == []


@pytest.mark.parametrize(
    ("moment", "expected"),
    [("10:30:00", "10:30:00"), ("10:30:09", "11:00:00"), ("10:31:00", "11:00:00"), ("10:59:59", "11:00:00")],
)
def test_planned_visits_start_on_the_next_half_hour_never_before_now(moment, expected):
    day = dt.date(2026, 12, 7)
    at = dt.datetime.combine(day, dt.time.fromisoformat(moment), tzinfo=dt.UTC)
    assert demo._round_up(at) == dt.datetime.combine(day, dt.time.fromisoformat(expected), tzinfo=dt.UTC)
