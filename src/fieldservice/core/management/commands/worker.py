"""`fsm worker`: run background tasks, and the periodic checks, until stopped.

With FSM_TASK_BACKEND=database the worker takes tasks from this database; with "rq" from the
Redis queue, and any number of workers may run on any number of machines. Every worker also runs
the scheduler loop (core.periodic.tick); the checks are claimed in the database, so running many
workers never runs a check twice.
"""

import logging
import os
import socket
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connections

from fieldservice.core import periodic

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
                claimed = periodic.tick()
                if claimed:
                    logger.info("Enqueued periodic checks: %s", ", ".join(claimed))
            except Exception:  # a database hiccup must not end the loop
                logger.exception("Scheduler tick failed")
            finally:
                connections.close_all()
            self.stopped.wait(self.every)


class Command(BaseCommand):
    help = "Run background tasks (notifications, SLA checks, reminders, e-mail intake) until stopped."

    def add_arguments(self, parser):
        parser.add_argument(
            "--burst", action="store_true", help="Exit when no task is waiting (for scripts and tests)."
        )
        parser.add_argument("--no-scheduler", action="store_true", help="Do not run the periodic checks here.")
        parser.add_argument("--name", default="", help="A worker name for the logs (default: host and pid).")

    def handle(self, *args, burst=False, no_scheduler=False, name="", verbosity=1, **options):
        if verbosity > 1:
            logging.getLogger("fieldservice").setLevel(logging.INFO)
        backend = settings.FSM_TASK_BACKEND
        if backend == "immediate":
            raise CommandError("FSM_TASK_BACKEND=immediate runs tasks inside the request; there is no worker to start.")
        name = name or f"{socket.gethostname()}-{os.getpid()}"
        scheduler = None
        if not no_scheduler:
            if burst:
                periodic.tick()
            else:
                scheduler = Scheduler(settings.FSM_SCHEDULER_TICK)
                scheduler.start()
        self.stdout.write(f"fsm worker {name}: {backend} backend{'' if scheduler else ', no scheduler'}")
        try:
            if backend == "database":
                self._run_database_worker(name, burst)
            else:
                self._run_rq_worker(name, burst)
        finally:
            if scheduler:
                scheduler.stopped.set()

    def _run_database_worker(self, name: str, burst: bool):
        from django_tasks_db.management.commands.db_worker import Worker

        worker = Worker(
            queue_names=["default"],
            interval=0.5,
            batch=burst,
            backend_name="default",
            startup_delay=not burst,
            max_tasks=None,
            worker_id=name[:64],
            excluded_queue_names=[],
        )
        worker.configure_signals()
        worker.run()

    def _run_rq_worker(self, name: str, burst: bool):
        import django_rq

        worker = django_rq.get_worker("default", name=name, job_class="django_tasks_rq.backend.Job")
        # The RQ scheduler moves deferred tasks (retries with back-off) onto the queue; RQ lets one
        # worker at a time do it.
        worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
