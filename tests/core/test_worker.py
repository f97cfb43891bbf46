"""`fsm worker` on the database backend: it runs what the outbox enqueued, and the periodic checks."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fieldservice.core import outbox, periodic
from fieldservice.core.models import OutboxMessage, PeriodicCheck
from tests.workers import worker_env

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}


@override_settings(TASKS=DATABASE_TASKS, FSM_TASK_BACKEND="database")
def test_the_database_worker_runs_what_the_outbox_enqueued(monkeypatch):
    seen = []
    monkeypatch.setattr(outbox, "_registered_consumers", lambda: ([lambda message: seen.append(message.payload)], []))
    with transaction.atomic():
        outbox.emit("thing.happened", {"n": 1})
        outbox.emit("thing.happened", {"n": 2})
    # Committed and enqueued, not yet run: the worker does that. One drain is enough for both
    # messages: a second is not queued while one waits.
    assert seen == [] and DBTaskResult.objects.count() == 1
    call_command("worker", "--burst", "--no-scheduler", verbosity=0)
    assert seen == [{"n": 1}, {"n": 2}]
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert not OutboxMessage.objects.filter(processed_at__isnull=True).exists()


@override_settings(FSM_TASK_BACKEND="immediate")
def test_there_is_no_worker_for_the_immediate_backend():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="immediate"):
        call_command("worker", "--burst")


@pytest.mark.usefixtures("postgres_only")
def test_a_worker_process_runs_the_due_periodic_checks():
    """A separate `fsm worker` process on PostgreSQL: its scheduler finds the checks due (none
    has run yet), and its recovery drains a message that no drain was enqueued for."""
    # Waiting longer than the recovery's grace: its drain was lost with a worker.
    stranded = OutboxMessage.objects.create(
        topic="nobody.listens", payload={}, available_at=timezone.now() - timedelta(minutes=1)
    )
    result = subprocess.run(
        [sys.executable, "-m", "fieldservice.cli", "worker", "--burst"],
        env=worker_env(FSM_TASK_BACKEND="database"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "database backend" in result.stdout
    stranded.refresh_from_db()
    assert stranded.processed_at is not None
    assert set(PeriodicCheck.objects.values_list("name", flat=True)) == set(periodic.CHECKS)
    assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists(), list(
        DBTaskResult.objects.values_list("task_path", "status", "exception_class_path")
    )


def test_the_mail_intake_task_skips_a_machine_without_a_maildir(settings, tmp_path):
    from fieldservice.workorders.tasks import fetch_mail

    settings.FSM_MAIL_SOURCE = "maildir"
    settings.FSM_MAILDIR = tmp_path / "absent"
    assert "skipped" in fetch_mail.call()
    assert not (tmp_path / "absent").exists()
