"""The `fsm` command: manage.py with a few friendlier verbs.

`fsm serve` runs the web server with one background worker beside it (`--no-worker` to run the
server alone, e.g. when workers run elsewhere), `fsm worker` runs a worker, `fsm demo` loads demo
data; every other argument is passed to Django's management commands (`fsm migrate`, ...).
"""

import atexit
import contextlib
import os
import subprocess
import sys


def _start_worker() -> subprocess.Popen | None:
    if os.environ.get("FSM_TASK_BACKEND", "").strip().lower() == "immediate":
        return None
    worker = subprocess.Popen([sys.executable, "-m", "fieldservice.cli", "worker"])

    def stop():
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()

    atexit.register(stop)
    return worker


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "serve":
        with_worker = "--no-worker" not in args
        args = [a for a in args if a != "--no-worker"]
        address = args[1] if len(args) > 1 else "127.0.0.1:8000"
        args = ["runserver", address, "--noreload", *args[2:]]
        if with_worker:
            _start_worker()
    elif args and args[0] == "demo":
        args = ["load_demo", *args[1:]]

    from django.core.management import execute_from_command_line

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends the server quietly
        execute_from_command_line(["fsm", *args])


if __name__ == "__main__":
    main()
