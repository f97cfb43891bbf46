"""Board data on top of the dispatch world (tests/dispatch/conftest.py): engineers that differ in
one way each, a hydraulics fault at customer A's Ningbo site, plus a planned visit of our engineer
on a weekday two weeks ahead, so "now" never gets in the way."""

import datetime as dt

import pytest
from django.utils import timezone

from fieldservice.dispatch.assignments.services import dispatch_to_engineer
from fieldservice.scheduling.services import schedule_visit
from tests.dispatch.conftest import order_for, world  # noqa: F401  (`world` is the fixture built on)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hours, minutes)))


def monday_ahead() -> dt.date:
    today = timezone.localdate() + dt.timedelta(days=14)
    return today - dt.timedelta(days=today.weekday())


def planned(w, engineer, start: dt.datetime, *, duration=60, **order_fields):
    """A NEW order of customer A offered to `engineer` with a planned visit from `start`."""
    order = order_for(w, **order_fields)
    dispatch_to_engineer(order, actor=w.dispatcher, engineer=engineer)
    return schedule_visit(order, actor=w.dispatcher, planned_start=start, duration_minutes=duration)


@pytest.fixture
def board(world):  # noqa: F811
    w = world
    w.day = monday_ahead()
    w.visit = planned(w, w.engineer, at(w.day, "10:00"))
    return w
