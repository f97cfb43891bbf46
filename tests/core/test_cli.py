"""`fsm serve` / `fsm demo` on another address: QR codes, links, e-mails and the demo's banner
point to the address served; the demo's mails go to a folder; its progress shows in a log file."""

import importlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import management
from django.core.management import call_command
from django.test import override_settings

from fieldservice import cli
from fieldservice.assets import labels
from fieldservice.notifications import channels
from fieldservice.notifications.models import Notification
from fieldservice.workorders.public_views import follow_url
from tests import factories


@pytest.mark.parametrize(
    ("address", "url"),
    [
        ("127.0.0.1:8100", "http://127.0.0.1:8100"),
        ("8100", "http://127.0.0.1:8100"),
        ("0.0.0.0:8100", "http://127.0.0.1:8100"),
        ("localhost:8141", "http://localhost:8141"),
        ("[::1]:8100", "http://[::1]:8100"),
    ],
)
def test_the_public_base_url_of_an_address(address, url):
    assert cli.public_base_url(address) == url


def settings_from_environment():
    """The settings a freshly started `fsm` process (the server, its worker) reads."""
    import fieldservice.settings as settings_module

    return importlib.reload(settings_module)


@pytest.fixture
def run_cli(monkeypatch):
    """cli.main with Django's command runner replaced: returns the command line it would run and
    the settings that process would have."""
    monkeypatch.delenv("FSM_PUBLIC_BASE_URL", raising=False)
    monkeypatch.setattr(cli, "_start_worker", lambda **_options: None)
    seen = {}

    def fake_execute(argv):
        seen["argv"] = argv
        seen["settings"] = settings_from_environment()

    monkeypatch.setattr(management, "execute_from_command_line", fake_execute)

    def run(*args):
        cli.main(list(args))
        return seen["argv"], seen["settings"]

    yield run
    # Back to the settings of the test run (the environment is restored by then).
    monkeypatch.undo()
    settings_from_environment()


def test_serve_on_another_port_puts_that_port_in_qr_codes_links_and_mails(run_cli, db, tmp_path):
    argv, fresh = run_cli("serve", "127.0.0.1:8141", "--no-worker")
    assert argv == ["fsm", "runserver", "127.0.0.1:8141", "--noreload"]
    assert os.environ["FSM_PUBLIC_BASE_URL"] == "http://127.0.0.1:8141"  # the worker inherits it
    assert fresh.FSM_PUBLIC_BASE_URL == "http://127.0.0.1:8141"

    engineer = factories.engineer()
    engineer.email = "engineer@example.com"
    engineer.save(update_fields=["email"])
    machine = factories.equipment()
    request = factories.service_request(machine.customer, equipment=machine)
    notification = Notification.objects.create(
        recipient=engineer, event="test", title="New order", url="/orders/1/", key="test:1"
    )
    outbox = tmp_path / "outbox"
    with override_settings(
        FSM_PUBLIC_BASE_URL=fresh.FSM_PUBLIC_BASE_URL,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(outbox),
    ):
        assert labels.public_url(machine).startswith("http://127.0.0.1:8141/")  # the QR code's text
        assert "http://127.0.0.1:8141/" in labels.label_lines(machine)[-1][0]
        assert follow_url(request).startswith("http://127.0.0.1:8141/")
        channels.send_email(notification, delivery_key="k", language="en")
    (mail,) = outbox.iterdir()
    assert "http://127.0.0.1:8141/orders/1/" in mail.read_text()
    assert "8000" not in mail.read_text()


def test_an_address_set_by_the_deployment_is_kept(run_cli, monkeypatch):
    monkeypatch.setenv("FSM_PUBLIC_BASE_URL", "https://service.example.com")
    argv, fresh = run_cli("serve", "0.0.0.0:8100", "--no-worker")
    assert argv[2] == "0.0.0.0:8100"
    assert fresh.FSM_PUBLIC_BASE_URL == "https://service.example.com"


def test_serve_without_an_address_keeps_port_8000(run_cli):
    argv, fresh = run_cli("serve", "--no-worker")
    assert argv == ["fsm", "runserver", "127.0.0.1:8000", "--noreload"]
    assert fresh.FSM_PUBLIC_BASE_URL == "http://127.0.0.1:8000"


def test_demo_takes_the_address_before_it_builds(run_cli):
    argv, fresh = run_cli("demo", "127.0.0.1:8141", "--scale", "0.1")
    assert argv == ["fsm", "load_demo", "--scale", "0.1"]
    assert fresh.FSM_PUBLIC_BASE_URL == "http://127.0.0.1:8141"


def test_without_a_mail_server_mails_are_files_in_var_mail_outbox(monkeypatch, tmp_path):
    import fieldservice.settings as settings_module

    for name in ("EMAIL_HOST", "EMAIL_FILE_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FSM_VAR_DIR", str(tmp_path))
    try:
        fresh = importlib.reload(settings_module)
        assert fresh.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend"
        assert Path(fresh.EMAIL_FILE_PATH) == tmp_path / "mail" / "outbox"
    finally:
        monkeypatch.undo()
        importlib.reload(settings_module)


class FlushRecorder(io.StringIO):
    """A stream that is not a terminal and notes what had been written at each flush."""

    def __init__(self):
        super().__init__()
        self.flushed: list[str] = []

    def isatty(self):
        return False

    def flush(self):
        self.flushed.append(self.getvalue())


def test_demo_progress_lines_reach_a_file_as_they_happen(db):
    out = FlushRecorder()
    call_command("load_demo", scale=0.05, orders=12, stdout=out)
    progress = [line for line in out.getvalue().splitlines() if "service history:" in line]
    assert len(progress) >= 5 and progress[-1].strip() == "service history: 12 of 12 orders"
    # Each line was flushed on its own, before the next step: a log file shows it at once.
    for line in progress:
        assert any(snapshot.endswith(line + "\n") for snapshot in out.flushed), line
    assert "\r" not in out.getvalue()


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="its subprocess runs on SQLite whatever the suite's database: the SQLite pass ran it",
)
def test_fsm_demo_on_another_port_in_a_log_file(tmp_path):
    """The real command line, stdout to a file: the banner, the logins and the mail folder."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fieldservice.settings",
        "FSM_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "demo-test",
        "DEBUG": "true",
        "FSM_TASK_BACKEND": "database",
    }
    for name in ("DATABASE_URL", "FSM_PUBLIC_BASE_URL", "EMAIL_HOST", "EMAIL_FILE_PATH"):
        env.pop(name, None)
    fsm = [sys.executable, "-m", "fieldservice.cli"]
    subprocess.run([*fsm, "migrate", "--noinput"], env=env, check=True, capture_output=True, timeout=300)
    log = tmp_path / "demo.log"
    with log.open("w") as stdout:
        subprocess.run(
            [*fsm, "demo", "127.0.0.1:8141", "--scale", "0.02", "--orders", "10"],
            env=env,
            check=True,
            stdout=stdout,
            timeout=300,
        )
    text = log.read_text()
    assert "Open http://127.0.0.1:8141 " in text and "8000" not in text
    assert "service history: 10 of 10 orders" in text
    assert f"written as a file into {tmp_path / 'mail' / 'outbox'}" in text
    # Only the mail folder follows the login table.
    assert text.rstrip().splitlines()[-1].startswith("E-mails are not sent")
    assert "  customer " in text


@pytest.fixture
def started(monkeypatch):
    """The processes cli.main would start beside the command (their command lines)."""
    commands = []

    class Process:
        def __init__(self, command, *args, **kwargs):
            commands.append(command[3:])

        def poll(self):
            return 0

    monkeypatch.setattr(cli.subprocess, "Popen", Process)
    monkeypatch.setattr(management, "execute_from_command_line", lambda argv: commands.append(argv[1:]))
    monkeypatch.delenv("FSM_TASK_BACKEND", raising=False)
    return commands


def test_the_mqtt_ingest_process_starts_beside_the_worker_only_with_a_broker(started, monkeypatch):
    monkeypatch.delenv("FSM_MQTT_URL", raising=False)
    cli.main(["worker"])
    assert started == [["worker"]]

    started.clear()
    monkeypatch.setenv("FSM_MQTT_URL", "mqtt://127.0.0.1:1883")
    cli.main(["worker"])
    assert started == [["iot"], ["worker"]]

    started.clear()
    cli.main(["worker", "--no-iot"])
    assert started == [["worker"]]

    started.clear()
    cli.main(["serve", "--no-iot"])
    # The server's worker is told not to start one (it would, being `fsm worker`).
    assert started[0] == ["worker", "--no-iot"] and ["iot"] not in started


def test_the_demo_devices_publish_beside_the_server_only_when_asked(started, monkeypatch):
    monkeypatch.delenv("FSM_MQTT_URL", raising=False)
    cli.main(["serve", "127.0.0.1:8100"])
    assert ["demo_devices"] not in started

    started.clear()
    cli.main(["serve", "127.0.0.1:8100", "--demo-devices"])
    assert ["demo_devices"] in started
    # The flag is ours: runserver is not given it.
    assert started[-1] == ["runserver", "127.0.0.1:8100", "--noreload"]
