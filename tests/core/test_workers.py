"""Worker heartbeats: a worker that stops beating is declared dead, the tasks it ran are failed and
run again once however many workers notice, and what it held is released."""

import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fieldservice.core import recovery, workers
from fieldservice.core.models import WorkerBeat
from tests.concurrency import run_concurrently
from tests.core.test_rq_workers import redis_url  # noqa: F401 - the Redis fixture, used by name
from tests.core.worker_tasks import slow_once
from tests.workers import wait_until, worker_env

pytestmark = pytest.mark.django_db(transaction=True)

REPOSITORY = Path(__file__).resolve().parents[2]
DEAD = timedelta(seconds=15)


@pytest.fixture
def database_backend():
    tasks = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}
    with override_settings(TASKS=tasks, FSM_TASK_BACKEND="database", FSM_WORKER_DEAD_SECONDS=15):
        yield


@pytest.fixture
def released():
    names = []
    workers.register_release_hook(names.append)
    yield names
    workers.unregister_release_hook(names.append)


def beat_row(name: str, beat_at, **fields) -> WorkerBeat:
    defaults = {"host": "elsewhere", "pid": 4242, "backend": "database", "queues": "default"}
    return WorkerBeat.objects.create(name=name, beat_at=beat_at, started_at=beat_at, **{**defaults, **fields})


def running_task(worker: str, *args, started_at=None, **kwargs) -> DBTaskResult:
    """A task row as a worker leaves it once it claimed it, with the task's real arguments."""
    result = slow_once.using(queue_name="notifications", priority=5).enqueue(*args, **kwargs)
    row = DBTaskResult.objects.get(pk=result.id)
    row.claim(worker)
    if started_at is not None:
        DBTaskResult.objects.filter(pk=row.pk).update(started_at=started_at)
        row.refresh_from_db()
    return row


def redriven(row: DBTaskResult):
    return DBTaskResult.objects.exclude(pk=row.pk).filter(task_path=row.task_path, args_kwargs=row.args_kwargs)


def test_the_task_of_a_silent_worker_fails_and_is_enqueued_again(database_backend, released):
    now = timezone.now()
    beat_row("dead-1", now - DEAD - timedelta(seconds=1))
    row = running_task("dead-1", "/tmp/marker", 3.5, started_at=now - timedelta(minutes=1))

    assert workers.bury_dead(now) == ["dead-1"]

    row.refresh_from_db()
    assert row.status == "FAILED"
    assert row.finished_at == now
    assert row.exception_class_path == "fieldservice.core.workers.WorkerDiedError"
    assert "dead-1 stopped beating at" in row.traceback
    again = redriven(row).get()
    assert again.status == "READY"
    assert again.args_kwargs == {"args": ["/tmp/marker", 3.5], "kwargs": {}}
    assert (again.queue_name, again.priority) == ("notifications", 5)
    assert str(again.pk) in row.traceback
    assert released == ["dead-1"]
    assert not WorkerBeat.objects.exists()
    # Buried once: a second look finds nothing to do.
    assert workers.bury_dead(now) == []
    assert DBTaskResult.objects.count() == 2


def test_a_live_worker_and_its_task_are_left_alone(database_backend, released):
    now = timezone.now()
    beat_row("alive-1", now - DEAD + timedelta(seconds=1))
    row = running_task("alive-1", "/tmp/marker", 1, started_at=now - timedelta(hours=1))
    # A task a dead worker once ran but a live one runs now belongs to the live one.
    beat_row("dead-2", now - timedelta(hours=1))
    handed_over = running_task("dead-2", "/tmp/other", 1)
    handed_over.claim("alive-1")

    assert recovery.recover(now)["dead_workers"] == ["dead-2"]

    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"RUNNING"}
    assert DBTaskResult.objects.count() == 2
    assert released == ["dead-2"]
    assert list(WorkerBeat.objects.values_list("name", flat=True)) == ["alive-1"]
    assert [info.name for info in workers.live_workers(now)] == ["alive-1"]
    holds = workers.live_workers(now)[0].holds
    assert sorted(held["args"][0] for held in holds) == ["/tmp/marker", "/tmp/other"]
    assert row.task_path == holds[0]["task"]


def test_running_tasks_of_a_worker_without_a_beat_row_are_failed_once_old_enough(database_backend, released):
    now = timezone.now()
    limit = DEAD + workers.ORPHAN_MARGIN
    old = running_task("before-heartbeats", "/tmp/old", 1, started_at=now - limit - timedelta(seconds=1))
    recent = running_task("before-heartbeats-too", "/tmp/recent", 1, started_at=now - limit + timedelta(seconds=5))

    assert [task["worker"] for task in workers.orphaned_tasks()] == ["before-heartbeats", "before-heartbeats-too"]
    assert workers.bury_dead(now) == ["before-heartbeats"]

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == "FAILED" and "has no heartbeat row" in old.traceback
    assert redriven(old).get().status == "READY"
    assert recent.status == "RUNNING" and not redriven(recent).exists()
    assert released == ["before-heartbeats"]


def test_the_rq_backend_buries_the_row_and_releases_but_leaves_tasks_to_rq(released):
    now = timezone.now()
    beat_row("rq-dead", now - DEAD - timedelta(seconds=1), backend="rq")
    with override_settings(FSM_WORKER_DEAD_SECONDS=15):  # TASKS: the immediate backend, no task rows
        assert workers.bury_dead(now) == ["rq-dead"]
    assert released == ["rq-dead"]
    assert not WorkerBeat.objects.exists()


def test_a_failing_release_hook_does_not_stop_the_burial(database_backend, released):
    def broken(name):
        raise RuntimeError("boom")

    workers.register_release_hook(broken)
    try:
        now = timezone.now()
        beat_row("dead-3", now - DEAD - timedelta(seconds=1))
        row = running_task("dead-3", "/tmp/x", 1)
        assert workers.bury_dead(now) == ["dead-3"]
    finally:
        workers.unregister_release_hook(broken)
    assert released == ["dead-3"]
    assert redriven(row).count() == 1


def test_a_beat_keeps_a_worker_alive_and_recreates_a_buried_one(database_backend):
    assert workers.beat("w-1", backend="database", queues=["notifications", "default"]) is True
    row = WorkerBeat.objects.get(name="w-1")
    assert (row.host, row.pid, row.queues) == (socket.gethostname(), os.getpid(), "notifications,default")
    WorkerBeat.objects.filter(pk=row.pk).update(beat_at=timezone.now() - timedelta(hours=1))
    assert workers.beat("w-1", backend="database", queues=["default"]) is False
    assert WorkerBeat.objects.get(name="w-1").beat_at > timezone.now() - timedelta(seconds=5)
    assert workers.bury_dead() == []
    workers.forget("w-1")
    assert not WorkerBeat.objects.exists()
    # Declared dead while it was only slow: the next beat says so by writing the row again.
    assert workers.beat("w-1", backend="database", queues=["default"]) is True


def test_a_worker_restarted_under_its_name_buries_its_previous_process(database_backend, released):
    now = timezone.now()
    # The previous process of this name ran on this host and is gone (pid of a finished child).
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    beat_row("fixed-name", now - timedelta(seconds=1), host=socket.gethostname(), pid=int(finished.stdout))
    row = running_task("fixed-name", "/tmp/restart", 1)

    assert workers.start("fixed-name", backend="database", queues=["default"], now=now) == ["fixed-name"]

    row.refresh_from_db()
    assert row.status == "FAILED" and redriven(row).count() == 1
    assert released == ["fixed-name"]
    assert WorkerBeat.objects.get(name="fixed-name").pid == os.getpid()


def test_a_name_a_running_worker_has_is_refused(database_backend):
    now = timezone.now()
    beat_row("taken", now - timedelta(seconds=1), host=socket.gethostname(), pid=os.getppid())
    with pytest.raises(workers.NameInUseError):
        workers.start("taken", backend="database", queues=["default"], now=now)
    beat_row("taken-elsewhere", now - timedelta(seconds=1), host="another-machine")
    with pytest.raises(workers.NameInUseError):
        workers.start("taken-elsewhere", backend="database", queues=["default"], now=now)
    # Silent for longer than the limit, the name is free again.
    assert workers.start("taken-elsewhere", backend="database", queues=["default"], now=now + DEAD) == [
        "taken-elsewhere"
    ]


def test_the_current_name_is_the_worker_s_own(monkeypatch):
    monkeypatch.setattr(workers, "_current_name", None)
    assert workers.current_name() == f"{socket.gethostname()}-{os.getpid()}"
    workers.set_current_name("x" * 100)
    assert workers.current_name() == "x" * 64


@pytest.mark.parametrize("attempt", range(3))
@pytest.mark.usefixtures("postgres_only")
def test_two_workers_burying_at_once_re_drive_each_task_once(database_backend, released, attempt):
    now = timezone.now()
    rows = []
    for i in range(3):
        beat_row(f"dead-{i}", now - DEAD - timedelta(seconds=1))
        rows += [running_task(f"dead-{i}", f"/tmp/{i}-{j}", j) for j in range(2)]
    orphans = [
        running_task(f"orphan-{i}", f"/tmp/orphan-{i}", 1, started_at=now - timedelta(hours=1)) for i in range(3)
    ]

    outcomes = run_concurrently(lambda: workers.bury_dead(now), lambda: workers.bury_dead(now))

    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    names = [name for _, buried in outcomes for name in buried]
    assert sorted(names) == ["dead-0", "dead-1", "dead-2", "orphan-0", "orphan-1", "orphan-2"]
    for row in rows + orphans:
        row.refresh_from_db()
        assert row.status == "FAILED"
        assert redriven(row).count() == 1
    assert DBTaskResult.objects.filter(status="READY").count() == 9
    assert sorted(released) == sorted(names)


def test_the_workers_command_lists_live_and_dead_workers_and_buries(database_backend, released, capsys):
    now = timezone.now()
    beat_row("alive-9", now, queues="notifications,default,webhooks")
    running_task("alive-9", "/tmp/shown", 2)
    beat_row("dead-9", now - timedelta(minutes=5))

    call_command("workers")
    out = capsys.readouterr().out
    running, dead = out.split("Dead workers")
    assert "alive-9" in running and "notifications,default,webhooks" in running
    assert "tests.core.worker_tasks.slow_once('/tmp/shown', 2)" in running
    assert "dead-9" in dead and "alive-9" not in dead

    call_command("workers", "--bury")
    out = capsys.readouterr().out
    assert "Buried 1 dead worker: dead-9" in out
    assert "Dead workers, not yet buried (0)" in out
    assert released == ["dead-9"]


def test_a_burst_worker_beats_while_it_runs_and_forgets_itself(database_backend, tmp_path, settings, monkeypatch):
    settings.FSM_WORKER_DEAD_SECONDS = 3  # a beat every second
    beats = []
    beat = workers.beat
    monkeypatch.setattr(workers, "beat", lambda name, **kwargs: beats.append(name) or beat(name, **kwargs))
    slow_once.enqueue(str(tmp_path / "marker"), 2.5)
    call_command("worker", "--burst", "--no-scheduler", "--name", "burst-1", verbosity=0)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    # A long task in a burst run is no sign of death either.
    assert beats[:2] == ["burst-1", "burst-1"]
    assert not WorkerBeat.objects.exists()


# A real worker process killed with SIGKILL in the middle of a task (PostgreSQL).


def start_worker(name: str, *options: str, **env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "fieldservice.cli", "worker", "--name", name, *options],
        env=worker_env(
            **{"FSM_TASK_BACKEND": "database", "FSM_WORKER_DEAD_SECONDS": "3", "FSM_SCHEDULER_TICK": "1", **env}
        ),
        cwd=REPOSITORY,  # the test tasks are imported from here
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


@pytest.mark.usefixtures("postgres_only")
def test_a_killed_worker_s_task_runs_again_on_another_worker(database_backend, tmp_path):
    marker = tmp_path / "marker"
    slow_once.enqueue(str(marker), 60)
    first = start_worker("victim", "--no-scheduler")
    second = None
    try:
        assert wait_until(lambda: marker.exists() and "start 1" in marker.read_text()), first.stderr
        row = DBTaskResult.objects.get(task_path=slow_once.module_path)
        assert (row.status, row.worker_ids) == ("RUNNING", ["victim"])
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)

        second = start_worker("survivor")
        assert wait_until(lambda: "done 2" in marker.read_text()), marker.read_text()
        assert wait_until(lambda: not DBTaskResult.objects.exclude(status__in=["FAILED", "SUCCESSFUL"]).exists())

        row.refresh_from_db()
        assert row.status == "FAILED"
        assert row.exception_class_path == "fieldservice.core.workers.WorkerDiedError"
        again = redriven(row).get()
        assert (again.status, again.worker_ids, again.return_value) == ("SUCCESSFUL", ["survivor"], 2)
        assert again.args_kwargs == row.args_kwargs
        assert marker.read_text().splitlines() == ["start 1", "start 2", "done 2"]
        assert list(WorkerBeat.objects.values_list("name", flat=True)) == ["survivor"]

        listing = subprocess.run(
            [sys.executable, "-m", "fieldservice.cli", "workers"],
            # In English, whatever the site's language: the headings are read below.
            env=worker_env(FSM_TASK_BACKEND="database", FSM_WORKER_DEAD_SECONDS="3", LANGUAGE_CODE="en"),
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert listing.returncode == 0, listing.stderr
        running, dead = listing.stdout.split("Dead workers")
        assert "survivor" in running and ",".join(settings.TASK_QUEUES) in running
        assert "victim" not in listing.stdout
    finally:
        for worker in (first, second):
            if worker and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)


@pytest.mark.usefixtures("postgres_only")
def test_a_worker_stopped_gracefully_leaves_no_row(database_backend):
    worker = start_worker("graceful", FSM_WORKER_DEAD_SECONDS="15")
    try:
        assert wait_until(lambda: WorkerBeat.objects.filter(name="graceful").exists())
        row = WorkerBeat.objects.get(name="graceful")
        assert row.queues == ",".join(settings.TASK_QUEUES)
        assert wait_until(lambda: WorkerBeat.objects.get(name="graceful").beat_at > row.beat_at, timeout=10)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        assert worker.wait(timeout=20) == 0, worker.stderr.read()
    assert not WorkerBeat.objects.exists()


@pytest.mark.usefixtures("redis_url")
def test_an_rq_worker_beats_and_shows_the_job_it_runs(tmp_path):
    marker = tmp_path / "marker"
    slow_once.enqueue(str(marker), 4)
    worker = subprocess.Popen(
        [sys.executable, "-m", "fieldservice.cli", "worker", "--name", "rq-1", "--no-scheduler"],
        env=worker_env(
            FSM_TASK_BACKEND="rq", FSM_REDIS_URL=settings.RQ_QUEUES["default"]["URL"], FSM_WORKER_DEAD_SECONDS="3"
        ),
        cwd=REPOSITORY,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert wait_until(lambda: marker.exists()), "the job did not start"
        (info,) = workers.live_workers()
        assert (info.name, info.backend, info.queues) == ("rq-1", "rq", ["notifications", "default"])
        assert [(held["task"], held["args"]) for held in info.holds] == [(slow_once.module_path, [str(marker), 4])]
        # Beating on while the work horse runs the job.
        assert wait_until(lambda: WorkerBeat.objects.get().beat_at > info.beat_at, timeout=5)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)  # a warm stop: the job ends first
        assert worker.wait(timeout=30) == 0, worker.stderr.read()
    assert "done 1" in marker.read_text()
    assert not WorkerBeat.objects.exists()


# The task loops of one worker (core.worker_loops): a task that waits holds one loop, not the worker.


@pytest.mark.parametrize("backend", ["database", "rq"])
@pytest.mark.usefixtures("postgres_only")
def test_a_waiting_task_holds_one_thread_and_a_stop_lets_it_finish(backend, database_backend, request, tmp_path):
    env = {"FSM_TASK_BACKEND": backend}
    if backend == "rq":
        request.getfixturevalue("redis_url")  # the queue in Redis, for this test and the worker
        env["FSM_REDIS_URL"] = settings.RQ_QUEUES["default"]["URL"]
    waiting, quick = tmp_path / "waiting", tmp_path / "quick"
    slow_once.enqueue(str(waiting), 6)  # like an attempt on a receiver that hangs
    worker = start_worker("looped", "--no-scheduler", "--threads", "2", **env)
    try:
        assert wait_until(lambda: waiting.exists()), worker.stderr
        # Enqueued after the first task started: one loop is free to take it.
        slow_once.enqueue(str(quick), 0)
        assert wait_until(lambda: quick.exists() and "done 1" in quick.read_text(), timeout=4)
        assert "done" not in waiting.read_text()
        (info,) = workers.live_workers()
        assert [held["args"] for held in info.holds] == [[str(waiting), 6]]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)  # a warm stop: the running task ends first
        assert worker.wait(timeout=30) == 0, worker.stderr.read()
    assert waiting.read_text().splitlines() == ["start 1", "done 1"]
    assert not WorkerBeat.objects.exists()


def test_the_threads_of_a_worker_must_be_at_least_one(database_backend):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--threads"):
        call_command("worker", "--burst", "--threads", "0")
