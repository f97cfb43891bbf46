"""Calls that run at the same moment, each in its own thread and so its own database connection, as
concurrent requests or workers would (the tests that use this take `postgres_only`: SQLite
serialises the transactions). An outcome is ("ok", what the call returned) or ("error", the
exception it raised), in the order of the calls."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connections

# How long a thread or the test waits for the others before the run fails: far above a round,
# even with fifty threads on a busy machine.
WAIT = 60


def run_concurrently(*calls: Callable) -> list[tuple]:
    """Run the calls once, released together."""
    with concurrent_rounds(*calls) as run_round:
        return run_round()


@contextmanager
def concurrent_rounds(*calls: Callable) -> Iterator[Callable[..., list[tuple]]]:
    """Threads for the calls that last for several rounds: each `run_round(*args)` releases them
    together, calls each with `args`, and returns the outcomes once every call ended. A thread keeps
    its connection from round to round, so the calls of a round meet in the database rather than
    being spread by each opening a connection; between rounds the test can change the data."""
    start, done = threading.Barrier(len(calls) + 1), threading.Barrier(len(calls) + 1)
    round_args: list = []
    outcomes: list = [None] * len(calls)

    def thread(index: int, call: Callable) -> None:
        try:
            while True:
                start.wait(timeout=WAIT)
                try:
                    outcomes[index] = ("ok", call(*round_args))
                except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
                    outcomes[index] = ("error", exc)
                done.wait(timeout=WAIT)
        except threading.BrokenBarrierError:
            pass  # the rounds are over (or the test stopped them)
        finally:
            connections.close_all()

    def run_round(*args) -> list[tuple]:
        round_args[:] = args
        start.wait(timeout=WAIT)
        done.wait(timeout=WAIT)
        return list(outcomes)

    threads = [threading.Thread(target=thread, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for each in threads:
        each.start()
    try:
        yield run_round
    finally:
        # Ends the threads waiting for a next round, and frees them if the test stopped early.
        start.abort()
        done.abort()
        for each in threads:
            each.join(timeout=WAIT)
