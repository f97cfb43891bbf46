"""The MQTT door against the real Mosquitto (127.0.0.1:1883; skipped where none answers): an
`fsm iot` subprocess stores what devices publish at QoS 1 once, refuses and counts wrong
credentials and other devices' topics, and loses nothing when it is killed or its connection drops.

Each test has its own topic root, shared-subscription group and client id, so parallel runs do
not take each other's messages."""

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import pytest
from django.utils import timezone

from fieldservice.iot.choices import RejectReason
from fieldservice.iot.models import Reading, Rejection
from tests.iot import factories as iot
from tests.workers import wait_until, worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only", "broker")]

REPOSITORY = Path(__file__).resolve().parents[2]
BROKER = ("127.0.0.1", 1883)


@pytest.fixture(scope="session")
def broker():
    try:
        socket.create_connection(BROKER, timeout=1).close()
    except OSError:
        pytest.skip("no MQTT broker answers on 127.0.0.1:1883 (install and start mosquitto)")


class Run:
    """One test's namespace and its ingest processes."""

    def __init__(self):
        tag = uuid.uuid4().hex[:10]
        self.root, self.group, self.client_id = f"fsmtest/{tag}", f"g{tag}", f"fsm-test-{tag}"
        self.processes: list[subprocess.Popen] = []
        self.publisher = None

    def start(self, url="mqtt://127.0.0.1:1883", *options) -> subprocess.Popen:
        log = tempfile.NamedTemporaryFile("w+", prefix="fsm-iot-", suffix=".log", delete=False)  # noqa: SIM115
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fieldservice.cli",
                "iot",
                "--url",
                url,
                "--group",
                self.group,
                "--client-id",
                self.client_id,
                "--batch-ms",
                "20",
                "--session-expiry",
                "120",
                *options,
            ],
            env=worker_env(FSM_MQTT_TOPIC_ROOT=self.root, LOG_LEVEL="INFO"),
            cwd=REPOSITORY,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        process.log_path = log.name
        self.processes.append(process)
        assert wait_until(lambda: "Subscribed" in self.log(process) or process.poll() is not None, 20), self.log(
            process
        )
        assert process.poll() is None, self.log(process)
        return process

    @staticmethod
    def log(process) -> str:
        return Path(process.log_path).read_text()

    def publish(self, prefix: str, body: dict, *, token: str) -> None:
        if self.publisher is None:
            import paho.mqtt.client as mqtt
            from paho.mqtt.enums import CallbackAPIVersion

            self.publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
            self.publisher.connect(*BROKER)
            self.publisher.loop_start()
        info = self.publisher.publish(
            f"{self.root}/devices/{prefix}/messages", json.dumps({"token": token, **body}), qos=1
        )
        info.wait_for_publish(5)

    def close(self):
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            Path(process.log_path).unlink(missing_ok=True)
        if self.publisher is not None:
            self.publisher.loop_stop()
            self.publisher.disconnect()
        # End the session this test left at the broker.
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        cleaner = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5)
        cleaner.connect(*BROKER, clean_start=True)
        cleaner.disconnect()


@pytest.fixture
def run():
    made = Run()
    yield made
    made.close()


def readings(count, start=0, metric="temperature"):
    now = timezone.now()
    return [
        iot.reading(metric=metric, value=float(n), at=now - timezone.timedelta(seconds=n))
        for n in range(start, start + count)
    ]


def stored(machine) -> int:
    return Reading.objects.filter(equipment=machine).count()


def test_qos1_messages_are_stored_once_also_when_published_twice(personas, run):
    device, token = iot.device(personas.admin, personas.customer_a)
    machine = device.machines.get()
    run.start()

    first, second = {"readings": readings(3)}, {"readings": readings(2, start=3)}
    run.publish(device.prefix, first, token=token)
    run.publish(device.prefix, second, token=token)
    run.publish(device.prefix, first, token=token)  # the same message again

    assert wait_until(lambda: stored(machine) >= 5, 10)
    # A marker published last, stored after everything before it (one publisher, one subscriber).
    run.publish(device.prefix, {"readings": readings(1, metric="marker")}, token=token)
    assert wait_until(lambda: Reading.objects.filter(equipment=machine, metric="marker").exists(), 10)
    values = Reading.objects.filter(equipment=machine, metric="temperature").values_list("value", flat=True)
    assert sorted(values) == [0, 1, 2, 3, 4]


def test_wrong_credentials_and_another_devices_topic_are_refused_and_counted(personas, run):
    device, token = iot.device(personas.admin, personas.customer_a)
    other, other_token = iot.device(personas.admin, personas.customer_z)
    run.start()

    run.publish(device.prefix, {"readings": readings(1)}, token=device.prefix + "x" * 30)  # wrong token
    run.publish(other.prefix, {"readings": readings(1)}, token=token)  # another device's topic
    # another device's machine
    run.publish(device.prefix, {"readings": readings_for(other.machines.get().serial_number, 1, 0)}, token=token)

    def counted():
        return dict(Rejection.objects.filter(door="mqtt").values_list("reason", "count"))

    assert wait_until(lambda: sum(counted().values()) >= 3, 10)
    assert counted() == {RejectReason.BAD_CREDENTIALS: 2, RejectReason.NOT_ITS_MACHINE: 1}
    assert not Reading.objects.exists()


def readings_for(machine_serial, count, start):
    return [{**r, "machine": machine_serial} for r in readings(count, start)]


def test_an_ingest_process_killed_mid_stream_and_restarted_stores_every_message_once(personas, run):
    device, token = iot.device(personas.admin, personas.customer_a)
    machine = device.machines.get()
    process = run.start("mqtt://127.0.0.1:1883", "--batch-size", "5")
    total = 400

    def publish_all():
        for n in range(total):
            run.publish(device.prefix, {"readings": readings(1, start=n)}, token=token)

    publisher = threading.Thread(target=publish_all)
    publisher.start()
    assert wait_until(lambda: stored(machine) >= 40, 15)
    os.killpg(process.pid, signal.SIGKILL)  # mid-stream: batches in flight, unacknowledged
    process.wait()
    killed_at = stored(machine)
    publisher.join(20)
    assert killed_at < total, "the stream was over before the kill"
    # Published while no process ran: kept by the broker in the persistent session.
    run.start("mqtt://127.0.0.1:1883", "--batch-size", "50")

    assert wait_until(lambda: stored(machine) >= total, 20), stored(machine)
    assert stored(machine) == total
    assert set(Reading.objects.filter(equipment=machine).values_list("value", flat=True)) == set(
        map(float, range(total))
    )


class Proxy:
    """A TCP proxy to the broker that the test can cut: every connection through it is dropped."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(BROKER)
            with self.lock:
                self.sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a, b):
        try:
            while True:
                ready, _w, _x = select.select([a, b], [], [], 1)
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        raise OSError
                    (b if source is a else a).sendall(data)
        except OSError:
            for s in (a, b):
                s.close()

    def cut(self):
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            self.sockets.clear()

    def close(self):
        self.cut()
        self.listener.close()


def test_a_dropped_broker_connection_is_reconnected_with_back_off_and_nothing_lost(personas, run):
    device, token = iot.device(personas.admin, personas.customer_a)
    machine = device.machines.get()
    proxy = Proxy()
    try:
        process = run.start(f"mqtt://127.0.0.1:{proxy.port}")
        for n in range(20):
            run.publish(device.prefix, {"readings": readings(1, start=n)}, token=token)
        proxy.cut()
        for n in range(20, 60):  # published while the ingest process is away
            run.publish(device.prefix, {"readings": readings(1, start=n)}, token=token)

        assert wait_until(lambda: stored(machine) >= 60, 20), (stored(machine), run.log(process))
        assert stored(machine) == 60
        assert "Lost the connection" in run.log(process)
        # Reconnected: the stored messages may come (from the kept session) before the line is written.
        assert wait_until(lambda: run.log(process).count("Connected to") >= 2, 10), run.log(process)
    finally:
        proxy.close()
