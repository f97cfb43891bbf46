"""Tasks for the worker process tests, importable by a worker started from the repository root."""

import time
from pathlib import Path

from django_tasks import task


@task()
def slow_once(path: str, seconds: float) -> int:
    """Append a line to `path` when it starts and one when it ends: the first run sleeps `seconds`
    (long enough to be killed in), a run after that does not. Returns the run's number."""
    marker = Path(path)
    run = marker.read_text().count("start") + 1 if marker.exists() else 1
    with marker.open("a") as out:
        out.write(f"start {run}\n")
    if run == 1:
        time.sleep(seconds)
    with marker.open("a") as out:
        out.write(f"done {run}\n")
    return run
