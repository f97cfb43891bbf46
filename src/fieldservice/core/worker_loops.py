"""The task loops of one `fsm worker`: the backend's own worker, once per thread.

A task that waits on a receiver (a webhook that hangs until its deadline, a slow SMS gateway)
holds the loop that runs it, not the CPU. With one loop per process, a hanging receiver took a
whole worker for each attempt, and two workers became one for everyone else's deliveries. With
FSM_WORKER_THREADS loops in each worker, it takes one thread of one worker; the slots of
`core.destinations` bound how many threads any destination holds at once.

SQLite allows one writer at a time, so there the default is one loop.

Stopping: the first SIGTERM or Ctrl-C lets every loop finish the task it runs and then stop; a
second one stops the process at once (the tasks it ran are found by `core.workers` and run again).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time

from django.db import connections

from fieldservice.core import workers

logger = logging.getLogger("fieldservice.worker")

# A loop that failed outside any task (the database gone for a moment) starts again after this.
RESTART_AFTER = 1.0


class _Stopper:
    """The main thread's signal handler for loops that run in other threads."""

    def __init__(self, request_stop, busy):
        self.request_stop = request_stop  # asks every loop to stop after its task
        self.busy = busy  # whether some loop runs a task now
        self.requested = threading.Event()

    def install(self) -> None:
        for name in ("SIGINT", "SIGTERM", "SIGQUIT"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), self.handle)

    def handle(self, signum, frame) -> None:
        if self.requested.is_set():
            logger.warning("Received %s again - stopping now.", signal.strsignal(signum))
            sys.exit(1)
        logger.warning(
            "Received %s - stopping after the running tasks (press Ctrl+C again to force).",
            signal.strsignal(signum),
        )
        self.requested.set()
        self.request_stop()


def _wait(threads: list[threading.Thread], stopper: _Stopper) -> None:
    # join() with a timeout, so that the main thread stays free to take a signal.
    while any(thread.is_alive() for thread in threads):
        if stopper.requested.is_set() and not stopper.busy():
            return  # idle loops blocked in a wait for the next task end with the process
        for thread in threads:
            thread.join(0.2)


def _start(target, count: int, name: str) -> list[threading.Thread]:
    threads = [threading.Thread(target=target, args=(i,), name=f"{name}-{i + 1}", daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    return threads


def run_database(name: str, queues: list[str], *, burst: bool, threads: int) -> None:
    from django_tasks_db.management.commands.db_worker import Worker

    def make() -> Worker:
        # One worker id for every loop: the tasks a dead worker ran are found by its name.
        return Worker(
            queue_names=queues,
            interval=0.5,
            batch=burst,
            backend_name="default",
            startup_delay=not burst,
            max_tasks=None,
            worker_id=name,
            excluded_queue_names=[],
        )

    if threads == 1:
        worker = make()
        worker.configure_signals()
        worker.run()
        return

    loops = [make() for _ in range(threads)]

    def run(index: int) -> None:
        worker = loops[index]
        try:
            while worker.running:
                try:
                    worker.run()
                    if burst:
                        return
                except Exception:
                    logger.exception("Task loop %s of %s failed; it starts again", index + 1, name)
                    time.sleep(RESTART_AFTER)
        finally:
            connections.close_all()

    def request_stop() -> None:
        for worker in loops:
            worker.running = False

    stopper = _Stopper(request_stop, busy=lambda: any(worker.running_task for worker in loops))
    stopper.install()
    _wait(_start(run, threads, "fsm-tasks"), stopper)


def run_rq(name: str, queues: list[str], *, burst: bool, threads: int) -> None:
    import django_rq

    job_class = "django_tasks_rq.backend.Job"
    if threads == 1:
        worker = django_rq.get_worker(*queues, name=name, job_class=job_class)
        # The RQ scheduler moves deferred tasks (retries with back-off) onto the queue; RQ lets
        # one worker at a time do it.
        worker.work(burst=burst, with_scheduler=True, logging_level="WARNING")
        return

    from rq import SimpleWorker
    from rq.timeouts import TimerDeathPenalty
    from rq.worker import WorkerStatus

    class ThreadWorker(SimpleWorker):
        # RQ's default timeout and signal handling need the main thread; these loops are not in it.
        death_penalty_class = TimerDeathPenalty

        def _install_signal_handlers(self):
            pass

    loops = [
        django_rq.get_worker(
            *queues, name=workers.rq_thread_name(name, i), job_class=job_class, worker_class=ThreadWorker
        )
        for i in range(threads)
    ]

    def run(index: int) -> None:
        try:
            loops[index].work(burst=burst, with_scheduler=index == 0, logging_level="WARNING")
        finally:
            connections.close_all()

    def request_stop() -> None:
        for worker in loops:
            worker._stop_requested = True  # noqa: SLF001 - RQ's own flag, checked between jobs

    stopper = _Stopper(request_stop, busy=lambda: any(worker.get_state() == WorkerStatus.BUSY for worker in loops))
    stopper.install()
    try:
        _wait(_start(run, threads, "fsm-tasks"), stopper)
    finally:
        for worker in loops:
            # A loop blocked waiting for a job ends with the process: say so to Redis now.
            if worker.get_state() != WorkerStatus.BUSY:
                try:
                    worker.register_death()
                except Exception:
                    logger.exception("Could not unregister %s", worker.name)
