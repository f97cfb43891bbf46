"""The `fsm` command: manage.py with a few friendlier verbs.

`fsm serve [address]` runs the web server with one background worker beside it (`--no-worker`
to run the server alone, e.g. when workers run elsewhere), `fsm worker` runs a worker,
`fsm demo [address]` loads demo data; every other argument is passed to Django's management
commands (`fsm migrate`, ...).

The address ("8100", "127.0.0.1:8100", "[::1]:8100") of `serve` and `demo` becomes the public
base URL of QR codes, links and e-mails unless FSM_PUBLIC_BASE_URL is set: a demo served on
another port must not print links to port 8000.
"""

import atexit
import contextlib
import os
import re
import subprocess
import sys

DEFAULT_ADDRESS = "127.0.0.1:8000"
# What runserver accepts: an optional host (a name, IPv4, or [IPv6]) and a port.
_ADDRESS = re.compile(r"^(?:(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(?P<port>\d+)$")
# Listening on every interface: the server is reached on this machine as 127.0.0.1.
_ANY_HOST = {"0.0.0.0", "[::]", "0"}


def is_address(value: str) -> bool:
    return bool(_ADDRESS.match(value))


def public_base_url(address: str) -> str:
    """The URL a browser on this machine opens for a server started on `address`."""
    match = _ADDRESS.match(address)
    if not match:
        raise ValueError(f"not an address:port: {address!r}")
    host = match["host"] or "127.0.0.1"
    if host in _ANY_HOST:
        host = "127.0.0.1"
    return f"http://{host}:{int(match['port'])}"


def use_address(address: str) -> None:
    """Make `address` the public base URL of this process and of the worker it starts, unless
    the deployment set one (QR codes printed for a real domain must keep it)."""
    if not os.environ.get("FSM_PUBLIC_BASE_URL", "").strip():
        os.environ["FSM_PUBLIC_BASE_URL"] = public_base_url(address)


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
        rest = [a for a in args[1:] if a != "--no-worker"]
        address = rest.pop(0) if rest and not rest[0].startswith("-") else DEFAULT_ADDRESS
        if is_address(address):  # else runserver says what is wrong with it
            use_address(address)
        args = ["runserver", address, "--noreload", *rest]
        if with_worker:
            _start_worker()
    elif args and args[0] == "demo":
        rest = args[1:]
        if rest and is_address(rest[0]):
            use_address(rest.pop(0))
        args = ["load_demo", *rest]

    from django.core.management import execute_from_command_line

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends the server quietly
        execute_from_command_line(["fsm", *args])


if __name__ == "__main__":
    main()
