"""The `fsm` command: manage.py with a few friendlier verbs.

`fsm serve [address]` runs the web server with one background worker beside it (`--no-worker`
to run the server alone, e.g. when workers run elsewhere), `fsm worker` runs a worker,
`fsm demo [address]` loads demo data, `fsm iot` runs the MQTT ingest process; every other
argument is passed to Django's management commands (`fsm migrate`, ...).

The address ("8100", "127.0.0.1:8100", "[::1]:8100") of `serve` and `demo` becomes the public
base URL of QR codes, links and e-mails unless FSM_PUBLIC_BASE_URL is set: a demo served on
another port must not print links to port 8000.

With FSM_MQTT_URL set, `fsm serve` (with its worker) and `fsm worker` also start one `fsm iot`
beside the worker (`--no-iot` not to, e.g. when ingest processes run elsewhere); without it no
broker is assumed and devices may still post over HTTP.

`fsm serve --demo-devices` also starts `fsm demo_devices`: the demo's machines publish (over the
broker when FSM_MQTT_URL is set, else to this server's HTTP endpoint) while the server runs.
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


def _start_worker(*, with_iot: bool = True) -> subprocess.Popen | None:
    if os.environ.get("FSM_TASK_BACKEND", "").strip().lower() == "immediate":
        return _start_iot() if with_iot else None
    # `fsm worker` starts the MQTT ingest process beside itself (when FSM_MQTT_URL is set).
    worker = subprocess.Popen([sys.executable, "-m", "fieldservice.cli", "worker", *([] if with_iot else ["--no-iot"])])

    def stop():
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()

    atexit.register(stop)
    return worker


def _stop_on_exit(process: subprocess.Popen) -> None:
    def stop():
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    atexit.register(stop)


def _start_iot() -> subprocess.Popen | None:
    """The MQTT ingest process beside the worker, when a broker is configured."""
    if not os.environ.get("FSM_MQTT_URL", "").strip():
        return None
    process = subprocess.Popen([sys.executable, "-m", "fieldservice.cli", "iot"])
    _stop_on_exit(process)
    return process


def _start_demo_devices() -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "fieldservice.cli", "demo_devices"])
    _stop_on_exit(process)
    return process


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "serve":
        with_worker = "--no-worker" not in args
        with_iot = "--no-iot" not in args
        with_demo_devices = "--demo-devices" in args
        rest = [a for a in args[1:] if a not in ("--no-worker", "--no-iot", "--demo-devices")]
        address = rest.pop(0) if rest and not rest[0].startswith("-") else DEFAULT_ADDRESS
        if is_address(address):  # else runserver says what is wrong with it
            use_address(address)
        args = ["runserver", address, "--noreload", *rest]
        if with_worker:
            _start_worker(with_iot=with_iot)
        if with_demo_devices:
            _start_demo_devices()
    elif args and args[0] == "worker":
        if "--no-iot" in args:
            args = [a for a in args if a != "--no-iot"]
        elif "--burst" not in args:
            _start_iot()
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
