"""Many `fsm worker` processes on the Redis queue (RQ) and PostgreSQL: every notification is
delivered exactly once, and a worker killed in the middle of a batch loses none.

These run real worker processes against the test database and a real Redis server; CI's machine
has both. On SQLite (no shared test database for other processes) they are skipped.
"""

import contextlib
import email
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from fieldservice.core import destinations
from fieldservice.core.models import DestinationSlot
from fieldservice.notifications.channels import message_id
from fieldservice.notifications.models import Delivery, Notification
from tests import factories
from tests.workers import wait_until, worker_env

pytestmark = pytest.mark.django_db(transaction=True)

BATCH = 1000


@pytest.fixture
def redis_url(postgres_only, worker_id):
    import redis

    # One Redis database per pytest-xdist worker, so parallel test processes never share a queue;
    # FSM_TEST_REDIS_DB moves the first one (runs of the suite side by side).
    index = 0 if worker_id == "master" else int(worker_id.removeprefix("gw"))
    url = f"redis://127.0.0.1:6379/{int(os.environ.get('FSM_TEST_REDIS_DB', '10')) + index}"
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("no Redis server on 127.0.0.1:6379")
    client.flushdb()
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": settings.TASK_QUEUES}},
        RQ_QUEUES={name: {"URL": url, "DEFAULT_TIMEOUT": 300} for name in settings.TASK_QUEUES},
        FSM_TASK_BACKEND="rq",
    ):
        yield url
    client.flushdb()


def make_deliveries(channel: str, count: int) -> list[int]:
    """`count` notifications for one user, each with one pending delivery on `channel`."""
    user = factories.user("dispatcher", username="watcher", email="watcher@example.com")
    now = timezone.now()
    notifications = Notification.objects.bulk_create(
        Notification(recipient=user, event="test.batch", title=f"Batch {i}", body="…", key=f"batch:{i}")
        for i in range(count)
    )
    deliveries = Delivery.objects.bulk_create(
        Delivery(notification=n, channel=channel, next_attempt_at=now) for n in notifications
    )
    return [d.pk for d in deliveries]


def start_workers(count: int, redis_url: str, **env) -> list[subprocess.Popen]:
    environment = worker_env(FSM_TASK_BACKEND="rq", FSM_REDIS_URL=redis_url, **env)
    return [
        subprocess.Popen(
            [sys.executable, "-m", "fieldservice.cli", "worker", "--no-scheduler", "--name", f"test-{i}-{os.getpid()}"],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: a kill takes its work horse too
        )
        for i in range(count)
    ]


def children_of(pid: int) -> list[int]:
    """The processes `pid` forked: RQ runs each job in a work horse with a process group of its
    own, which a kill of the worker's group does not reach."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.append(int(entry.name))
    return children


def stop(workers):
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def wait_until_stalled(done, quiet=5.0, timeout=180.0) -> bool:
    """Wait until `done()`, or until the sent count has not moved for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    last, since = sent_count(), time.monotonic()
    while time.monotonic() < deadline:
        if done():
            return True
        now_count = sent_count()
        if now_count != last:
            last, since = now_count, time.monotonic()
        elif time.monotonic() - since > quiet:
            return False
        time.sleep(0.2)
    return False


def holder_of(key: str) -> str | None:
    return DestinationSlot.objects.filter(destination__key=key).values_list("holder", flat=True).first()


def sent_count() -> int:
    return Delivery.objects.filter(status="sent").count()


def test_two_workers_send_each_of_1000_mails_exactly_once(redis_url, tmp_path):
    make_deliveries("email", BATCH)
    # As the consumer's commit does: one pump for the destination, not a task per delivery.
    assert destinations.request_pump("email")
    workers = start_workers(2, redis_url, EMAIL_FILE_PATH=str(tmp_path))
    try:
        assert wait_until(lambda: sent_count() == BATCH, timeout=180), f"{sent_count()} of {BATCH} sent"
    finally:
        stop(workers)
    # What left the building: every mail file the two workers wrote, read back.
    keys, message_ids = [], set()
    for path in Path(tmp_path).iterdir():
        for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if raw.strip():
                sent = email.message_from_bytes(raw.strip())
                keys.append(sent["X-FSM-Delivery"])
                message_ids.add(sent["Message-ID"])
    assert len(keys) == BATCH
    assert len(set(keys)) == BATCH
    # The Message-ID is the delivery's too, so a mail client shows a repeat once.
    assert message_ids == {message_id(key) for key in keys}
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    # Both workers took a share of the batch.
    assert Delivery.objects.filter(status="sent").count() == BATCH


# Short leases for the worker processes, so the test waits for a killed worker's lease to end.
LEASE_SECONDS = 3
SHORT_LEASES = {
    "FSM_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
    "FSM_DELIVERY_DEADLINE_SECONDS": "2",
    "FSM_DELIVERY_CONNECT_SECONDS": "1",
}


def test_a_killed_worker_loses_no_notification(redis_url):
    make_deliveries("in_app", BATCH)
    assert destinations.request_pump("in_app")
    workers = start_workers(2, redis_url, **SHORT_LEASES)
    try:
        assert wait_until(lambda: sent_count() >= BATCH // 5, timeout=120)
        # The worker running the pump (holding the destination's slot), so what it held must be
        # recovered: its slot, the delivery it had claimed, and the pump it would have asked for next.
        wait_until(lambda: holder_of("in_app") is not None, timeout=10)
        names = {f"test-{i}-{os.getpid()}": worker for i, worker in enumerate(workers)}
        victim = names.get(holder_of("in_app"), workers[0])
        horses = children_of(victim.pid)
        os.killpg(victim.pid, signal.SIGKILL)  # mid-batch, work horse and all
        for horse in horses:
            with contextlib.suppress(ProcessLookupError):
                os.kill(horse, signal.SIGKILL)
        victim.wait(timeout=30)
        survivor_done = wait_until_stalled(lambda: sent_count() == BATCH)
        if not survivor_done:
            # The killed worker held the pump: its slot and the delivery it had claimed are free
            # once their lease ends, and the recovery (every worker's scheduler runs it; these
            # workers have none) asks for a pump again, by the real clock.
            time.sleep(LEASE_SECONDS + 0.5)
            recovered = destinations.recover()
            assert recovered["pumps"] == ["in_app"], recovered
        assert wait_until(lambda: sent_count() == BATCH, timeout=120), f"{sent_count()} of {BATCH} delivered"
        # Running the recovery again once all is done re-sends nothing.
        time.sleep(LEASE_SECONDS + 0.5)
        assert destinations.recover() == {"released": 0, "pumps": []}
        time.sleep(1)
    finally:
        stop(workers)
    assert Notification.objects.filter(delivered_at__isnull=False).count() == BATCH
    assert Delivery.objects.filter(status="sent").count() == BATCH
    assert not Delivery.objects.filter(attempts__gt=2).exists()
