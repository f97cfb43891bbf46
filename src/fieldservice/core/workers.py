"""Worker heartbeats, and what becomes of the work of a worker that stopped beating.

Every `fsm worker` writes its `WorkerBeat` row every few seconds from a thread of its own, so the
beat goes on while a long task runs, and deletes the row when it stops gracefully. A row silent
for FSM_WORKER_DEAD_SECONDS belongs to a worker that died without a word (SIGKILL, out of memory,
the machine gone). `bury_dead`, run by every worker's scheduler, then:

- on the database backend, marks each task that worker was running (a `DBTaskResult` still
  RUNNING whose last worker id is its name) FAILED with `WorkerDiedError`, and enqueues the same
  task with the same arguments again; RUNNING rows of a worker that has no row at all (one from
  before heartbeats, or whose row was lost) are treated the same once they are old enough;
- on the RQ backend, leaves the jobs to RQ: a job whose worker died is found by RQ's own registry
  cleanup when its execution lease runs out, and moved to the failed registry (retried if the task
  asked for retries); what the application must not lose is re-driven by its periodic sweep;
- on both, calls the release hooks (`register_release_hook`) with the dead name, so whatever else
  the worker held (destination slots) is freed, and deletes the row.

Every step is a compare-and-set, so any number of workers may bury the same dead one at once: the
beat row is deleted by one of them only, and each task is failed and enqueued again once.

A worker that was only paused (stopped in a debugger, a machine that froze) and comes back after
being buried finds its row gone, writes it again and logs a warning; a task it then finishes has
also been run again by another worker: tasks are written to be safe to run twice.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from fieldservice.core.models import WorkerBeat

logger = logging.getLogger(__name__)

# A RUNNING task whose worker has no beat row at all is failed only once it started this long
# before the dead-worker limit: a worker of an older release (no heartbeats) may still run it
# during an upgrade, and a long task must not be run twice for that.
ORPHAN_MARGIN = timedelta(minutes=5)


class WorkerDiedError(Exception):
    """Recorded as the failure of a task whose worker stopped beating while it ran it."""


class NameInUseError(Exception):
    """Another running worker already has this name."""


_current_name: str | None = None
_release_hooks: list[Callable[[str], object]] = []


def default_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"[:64]


def set_current_name(name: str) -> None:
    global _current_name
    _current_name = name[:64]


def current_name() -> str:
    """The name of the worker this code runs in: what a holder of a lease or slot records. A task
    run by RQ's forked work horse gets its parent's name, the one that beats."""
    return _current_name or default_name()


def register_release_hook(hook: Callable[[str], object]) -> None:
    """Call `hook(name)` when the worker `name` is found dead, to free what it held. A hook must be
    safe to call again with the same name; an exception in one is logged and the others still run."""
    if hook not in _release_hooks:
        _release_hooks.append(hook)


def unregister_release_hook(hook: Callable[[str], object]) -> None:
    if hook in _release_hooks:
        _release_hooks.remove(hook)


def _queues_text(queues: Iterable[str]) -> str:
    return ",".join(queues)[:200]


def beat(name: str, *, backend: str, queues: Iterable[str]) -> bool:
    """Say that worker `name` is alive. Returns True when the row had to be created: the first beat,
    or the worker had been declared dead in the meantime."""
    now = timezone.now()
    if WorkerBeat.objects.filter(name=name).update(beat_at=now):
        return False
    _row, created = WorkerBeat.objects.get_or_create(
        name=name,
        defaults={
            "host": socket.gethostname()[:200],
            "pid": os.getpid(),
            "backend": backend,
            "queues": _queues_text(queues),
            "started_at": now,
            "beat_at": now,
        },
    )
    return created


def start(name: str, *, backend: str, queues: Iterable[str], now: datetime | None = None) -> list[str]:
    """The first beat of a worker starting as `name`. A row left under that name by an earlier
    process (restarted with the same `--name`, or with the same host and pid in a new container)
    would hide that process's tasks from `bury_dead` for good once the name beats again, so they
    are buried now. Raises NameInUseError if that process still runs. Returns the names buried."""
    now = now or timezone.now()
    buried = []
    previous = WorkerBeat.objects.filter(name=name).first()
    if previous is not None:
        if _still_running(previous, now):
            raise NameInUseError(name)
        if WorkerBeat.objects.filter(pk=previous.pk, beat_at=previous.beat_at).delete()[0]:
            logger.warning("Worker %s starts again; its previous process stopped at %s", name, previous.beat_at)
            _bury(name, since=previous.beat_at, now=now)
            buried.append(name)
    try:
        with transaction.atomic():
            WorkerBeat.objects.create(
                name=name,
                host=socket.gethostname()[:200],
                pid=os.getpid(),
                backend=backend,
                queues=_queues_text(queues),
                started_at=now,
                beat_at=now,
            )
    except IntegrityError:
        raise NameInUseError(name) from None
    return buried


def _still_running(row: WorkerBeat, now: datetime) -> bool:
    if row.beat_at < now - dead_after():
        return False
    if row.host != socket.gethostname():
        return True  # on another machine only the beat tells
    if row.pid == os.getpid():
        return False  # this process, or a container restarted with the same pid
    try:
        os.kill(row.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget(name: str) -> None:
    """A graceful stop: nothing is left running under this name."""
    WorkerBeat.objects.filter(name=name).delete()


def dead_after() -> timedelta:
    return timedelta(seconds=settings.FSM_WORKER_DEAD_SECONDS)


def bury_dead(now: datetime | None = None) -> list[str]:
    """Fail and re-drive what the dead workers were running, free what they held, delete their rows.
    Returns the names this call buried (a name another caller buried first is not in it)."""
    now = now or timezone.now()
    buried = []
    for row in WorkerBeat.objects.filter(beat_at__lt=now - dead_after()):
        # Whoever deletes the row buries the worker; a worker that beat meanwhile is left alone.
        if not WorkerBeat.objects.filter(pk=row.pk, beat_at=row.beat_at).delete()[0]:
            continue
        logger.warning("Worker %s on %s (pid %s) stopped beating at %s", row.name, row.host, row.pid, row.beat_at)
        _bury(row.name, since=row.beat_at, now=now)
        buried.append(row.name)
    for name in _bury_orphans(now):
        if name not in buried:
            buried.append(name)
    return buried


def _bury(name: str, *, since: datetime | None, now: datetime) -> None:
    _fail_and_redrive([row for row in _running_task_rows() if _holder(row) == name], since=since, now=now)
    _release(name)


def _bury_orphans(now: datetime) -> list[str]:
    """RUNNING tasks of workers that have no beat row, started long enough ago."""
    rows = _running_task_rows(started_before=now - dead_after() - ORPHAN_MARGIN)
    if not rows:
        return []
    known = set(WorkerBeat.objects.filter(name__in={_holder(row) for row in rows}).values_list("name", flat=True))
    by_holder: dict[str, list] = {}
    for row in rows:
        if _holder(row) not in known:
            by_holder.setdefault(_holder(row), []).append(row)
    buried = []
    for name, orphans in by_holder.items():
        if _fail_and_redrive(orphans, since=None, now=now):
            logger.warning("Tasks of worker %r, which has no heartbeat row, were left running", name)
            _release(name)
            buried.append(name)
    return buried


def _release(name: str) -> None:
    for hook in list(_release_hooks):
        try:
            hook(name)
        except Exception:
            logger.exception("Release hook %r failed for the dead worker %s", hook, name)


def _database_backends() -> list[str]:
    from django_tasks import task_backends
    from django_tasks_db import DatabaseBackend

    return [alias for alias in settings.TASKS if isinstance(task_backends[alias], DatabaseBackend)]


def _running_task_rows(started_before: datetime | None = None) -> list:
    """The RUNNING task rows of the database backends (a few: at most one per worker)."""
    aliases = _database_backends()
    if not aliases:
        return []
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.running().filter(backend_name__in=aliases).order_by("started_at")
    if started_before is not None:
        rows = rows.filter(started_at__lt=started_before)
    return list(rows)


def _holder(row) -> str:
    """The worker running a task row: the last to claim it."""
    return row.worker_ids[-1] if row.worker_ids else ""


def _fail_and_redrive(rows, *, since: datetime | None, now: datetime) -> int:
    """Mark each row FAILED and enqueue its task again, both or neither. Returns how many this call
    re-drove; a row another caller changed first is skipped."""
    from django_tasks_db.models import DBTaskResult

    done = 0
    for row in rows:
        name = _holder(row)
        stopped = f"stopped beating at {since.isoformat()}" if since else "has no heartbeat row"
        try:
            with transaction.atomic():
                # The compare: only one caller moves the row out of RUNNING. On PostgreSQL the update
                # locks it, so a concurrent caller's update waits, then matches nothing.
                won = DBTaskResult.objects.filter(pk=row.pk, status="RUNNING", started_at=row.started_at).update(
                    status="FAILED",
                    finished_at=now,
                    return_value=None,
                    exception_class_path=f"{WorkerDiedError.__module__}.{WorkerDiedError.__qualname__}",
                )
                if not won:
                    continue
                again = _enqueue_again(row)
                outcome = f"enqueued again as {again}" if again else "its task no longer exists"
                DBTaskResult.objects.filter(pk=row.pk).update(
                    traceback=f"The worker {name} {stopped} while it ran this task; {outcome}.\n"
                )
        except Exception:
            logger.exception("Could not re-drive task %s of the dead worker %s", row.pk, name)
            continue
        logger.warning("Task %s (%s) of the dead worker %s enqueued again as %s", row.pk, row.task_path, name, again)
        done += 1
    return done


def _enqueue_again(row) -> str | None:
    from django.core.exceptions import SuspiciousOperation

    try:
        task = row.task.using(queue_name=row.queue_name, priority=row.priority)
    except (ImportError, SuspiciousOperation):
        # The code of the task is gone (a release removed it): failed it stays.
        logger.exception("Task %s of a dead worker points to no task (%s)", row.pk, row.task_path)
        return None
    arguments = row.args_kwargs or {}
    return str(task.enqueue(*arguments.get("args", []), **arguments.get("kwargs", {})).id)


@dataclass
class WorkerInfo:
    name: str
    host: str
    pid: int
    backend: str
    queues: list[str]
    started_at: datetime
    beat_at: datetime
    silent_seconds: float
    alive: bool
    # What it runs: {"task": dotted path, "args": [...], "kwargs": {...}, "started_at": datetime}
    holds: list[dict] = field(default_factory=list)


def live_workers(now: datetime | None = None) -> list[WorkerInfo]:
    """The workers beating now, each with the tasks it runs."""
    return [info for info in _describe(now) if info.alive]


def dead_workers(now: datetime | None = None) -> list[WorkerInfo]:
    """Workers silent for longer than the limit that no one has buried yet."""
    return [info for info in _describe(now) if not info.alive]


def orphaned_tasks() -> list[dict]:
    """RUNNING task rows (database backend) whose worker has no beat row."""
    rows = _running_task_rows()
    known = set(WorkerBeat.objects.values_list("name", flat=True))
    return [{**_task_info(row), "worker": _holder(row)} for row in rows if _holder(row) not in known]


def _describe(now: datetime | None) -> list[WorkerInfo]:
    now = now or timezone.now()
    limit = now - dead_after()
    beats = list(WorkerBeat.objects.all())
    running: dict[str, list] = {}
    for row in _running_task_rows():
        running.setdefault(_holder(row), []).append(_task_info(row))
    infos = []
    for row in beats:
        infos.append(
            WorkerInfo(
                name=row.name,
                host=row.host,
                pid=row.pid,
                backend=row.backend,
                queues=[q for q in row.queues.split(",") if q],
                started_at=row.started_at,
                beat_at=row.beat_at,
                silent_seconds=max(0.0, (now - row.beat_at).total_seconds()),
                alive=row.beat_at >= limit,
                holds=_rq_current_job(row.name) if row.backend == "rq" else running.get(row.name, []),
            )
        )
    return infos


def _task_info(row) -> dict:
    arguments = row.args_kwargs or {}
    return {
        "task": row.task_path,
        "args": arguments.get("args", []),
        "kwargs": arguments.get("kwargs", {}),
        "started_at": row.started_at,
    }


def rq_thread_name(name: str, index: int) -> str:
    """RQ knows each task loop of a worker (core.worker_loops) as a worker of its own."""
    return f"{name}/{index + 1}"


def _rq_current_job(name: str) -> list[dict]:
    """The jobs RQ says the worker's loops run; nothing if Redis cannot tell (display only)."""
    try:
        import django_rq
        from rq import Worker

        connection = django_rq.get_connection(settings.TASK_QUEUES[0])
        loops = [w for w in Worker.all(connection=connection) if w.name == name or w.name.startswith(f"{name}/")]
        jobs = [job for job in (w.get_current_job() for w in loops) if job is not None]
    except Exception:
        logger.debug("Could not ask RQ what worker %s runs", name, exc_info=True)
        return []
    return [
        {"task": job.func_name, "args": list(job.args), "kwargs": dict(job.kwargs), "started_at": job.started_at}
        for job in jobs
    ]
