"""Periodic checks are due by database state: claimed once however many workers tick, and
overdue ones run at once after a restart."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fieldservice.core import periodic
from fieldservice.core.models import PeriodicCheck
from tests.concurrency import run_concurrently

CHECKS = {
    "a.check": ("tests.core.test_periodic.record_run", 60),
    "b.check": ("tests.core.test_periodic.record_run", 600),
}
RUNS = []


class _Task:
    def enqueue(self):
        RUNS.append(timezone.now())


record_run = _Task()


@pytest.fixture
def checks(monkeypatch):
    RUNS.clear()
    monkeypatch.setattr(periodic, "CHECKS", CHECKS)
    return RUNS


@pytest.mark.django_db
def test_a_due_check_is_enqueued_once_until_its_interval_passes(checks):
    now = timezone.now()
    assert sorted(periodic.tick(now)) == ["a.check", "b.check"]
    assert periodic.tick(now + timedelta(seconds=30)) == []
    assert periodic.tick(now + timedelta(seconds=61)) == ["a.check"]
    assert PeriodicCheck.objects.get(name="b.check").next_due_at == now + timedelta(seconds=600)
    assert len(checks) == 3


@pytest.mark.django_db
def test_after_a_long_stop_an_overdue_check_runs_once(checks):
    now = timezone.now()
    periodic.tick(now)
    later = now + timedelta(days=3)
    assert sorted(periodic.tick(later)) == ["a.check", "b.check"]
    assert periodic.tick(later) == []
    assert PeriodicCheck.objects.get(name="a.check").next_due_at == later + timedelta(seconds=60)


@pytest.mark.django_db
def test_an_interval_can_be_set(checks, settings):
    settings.FSM_PERIODIC_SECONDS = {"a.check": 5}
    now = timezone.now()
    periodic.tick(now)
    assert periodic.tick(now + timedelta(seconds=6)) == ["a.check"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_only")
def test_workers_ticking_together_enqueue_each_check_once(checks):
    now = timezone.now()
    periodic.tick(now - timedelta(hours=1))  # the rows exist and are due again by now
    checks.clear()
    outcomes = run_concurrently(*[lambda: periodic.tick(now)] * 6)
    claimed = sorted(name for kind, names in outcomes if kind == "ok" for name in names)
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    assert claimed == ["a.check", "b.check"]
    assert len(checks) == 2
