"""`fsm worker`: run background tasks, and the periodic checks, until stopped.

With FSM_TASK_BACKEND=database the worker takes tasks from this database; with "rq" from the
Redis queue, and any number of workers may run on any number of machines. It takes the queues of
settings.TASK_QUEUES, in that order. Every worker also runs the scheduler loop: the periodic
checks (core.periodic.tick) and the recovery (core.recovery.recover); both claim their work in
the database, so running many workers never does anything twice.

Every worker beats (core.workers) from a thread of its own, also while a long task runs; a worker
that stops beating is declared dead by the others and its tasks are run again.
"""

import logging
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connections
from django.utils.translation import gettext as _

from fieldservice.core import periodic, recovery, workers
from fieldservice.core import worker_loops as loops

logger = logging.getLogger("fieldservice.worker")


class Scheduler(threading.Thread):
    def __init__(self, every: float):
        super().__init__(name="fsm-scheduler", daemon=True)
        self.every = every
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                close_old_connections()
                run_scheduled()
            finally:
                connections.close_all()
            self.stopped.wait(self.every)


def run_scheduled() -> None:
    """One tick: the due periodic checks, then the recovery. A failure of one (a database hiccup)
    is logged and neither ends the loop nor skips the other."""
    try:
        claimed = periodic.tick()
        if claimed:
            logger.info("Enqueued periodic checks: %s", ", ".join(claimed))
    except Exception:
        logger.exception("Scheduler tick failed")
    try:
        recovered = recovery.recover()
        if any(recovered.values()):
            logger.info("Recovered: %s", recovered)
    except Exception:
        logger.exception("Recovery failed")


class Heartbeat(threading.Thread):
    """Writes this worker's beat while the main thread runs tasks, however long they take."""

    def __init__(self, name: str, backend: str, queues: list[str], every: float):
        super().__init__(name="fsm-heartbeat", daemon=True)
        self.worker_name, self.backend, self.queues, self.every = name, backend, queues, every
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(self.every):
            try:
                if workers.beat(self.worker_name, backend=self.backend, queues=self.queues):
                    logger.warning(
                        "Worker %s had been declared dead (no beat for %s s); the tasks it ran were enqueued again",
                        self.worker_name,
                        settings.FSM_WORKER_DEAD_SECONDS,
                    )
            except Exception:  # a missed beat is retried; dying here would get the worker buried
                logger.exception("Heartbeat of %s failed", self.worker_name)
            finally:
                connections.close_all()

    def stop(self):
        self.stopped.set()
        self.join(timeout=10)


class Command(BaseCommand):
    help = "Run background tasks (notifications, SLA checks, reminders, e-mail intake) until stopped."

    def add_arguments(self, parser):
        parser.add_argument(
            "--burst", action="store_true", help="Exit when no task is waiting (for scripts and tests)."
        )
        parser.add_argument("--no-scheduler", action="store_true", help="Do not run the periodic checks here.")
        parser.add_argument(
            "--name", default="", help="A name unique among the running workers (default: host and pid)."
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="Tasks run at once in this worker (default FSM_WORKER_THREADS: 4 on PostgreSQL, 1 on SQLite).",
        )

    def handle(self, *args, burst=False, no_scheduler=False, name="", threads=None, verbosity=1, **options):
        if verbosity > 1:
            logging.getLogger("fieldservice").setLevel(logging.INFO)
        backend = settings.FSM_TASK_BACKEND
        if backend == "immediate":
            raise CommandError("FSM_TASK_BACKEND=immediate runs tasks inside the request; there is no worker to start.")
        name = (name or workers.default_name())[:64]
        threads = settings.FSM_WORKER_THREADS if threads is None else threads
        if threads < 1:
            raise CommandError(_("--threads must be at least 1."))
        queues = list(settings.TASK_QUEUES)
        try:
            workers.start(name, backend=backend, queues=queues)
        except workers.NameInUseError:
            raise CommandError(
                _(
                    "A running worker is already named %(name)s; give this one another --name, or wait "
                    "%(seconds)s s if that worker was stopped."
                )
                % {"name": name, "seconds": settings.FSM_WORKER_DEAD_SECONDS}
            ) from None
        workers.set_current_name(name)
        # A beat at least three times within the dead limit: one late beat is no death.
        heartbeat = Heartbeat(
            name, backend, queues, min(settings.FSM_SCHEDULER_TICK, settings.FSM_WORKER_DEAD_SECONDS / 3)
        )
        heartbeat.start()
        scheduler = None
        try:
            if not no_scheduler:
                if burst:
                    run_scheduled()
                else:
                    scheduler = Scheduler(settings.FSM_SCHEDULER_TICK)
                    scheduler.start()
            self.stdout.write(
                f"fsm worker {name}: {backend} backend, {threads} thread(s)"
                f"{'' if not no_scheduler else ', no scheduler'}"
            )
            if backend == "database":
                loops.run_database(name, queues, burst=burst, threads=threads)
            else:
                loops.run_rq(name, queues, burst=burst, threads=threads)
        finally:
            if scheduler:
                scheduler.stopped.set()
            heartbeat.stop()
            workers.forget(name)
