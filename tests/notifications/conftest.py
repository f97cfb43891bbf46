"""A local HTTP receiver for the SMS and IM tests, and helpers that turn outbox messages into
notifications the way the worker does."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import override_settings

from fieldservice.core.models import OutboxMessage
from fieldservice.notifications import consumers
from fieldservice.notifications.models import Delivery, Notification


class Receiver:
    """Answers each POST with the next status of `statuses` (then 200) and records it."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.answer = b'{"errcode": 0, "errmsg": "ok"}'
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                receiver.requests.append(
                    {
                        "path": parts.path,
                        "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
                        "headers": {name.lower(): value for name, value in self.headers.items()},
                        "raw": body,
                        "json": json.loads(body),
                    }
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(receiver.answer if status == 200 else b'{"error": "busy"}')

            def log_message(self, *args):
                pass

        return Handler

    def signature_ok(self, request: dict, secret: str) -> bool:
        """Check X-FSM-Signature as a receiver would: HMAC-SHA256 of "<timestamp>.<body>"."""
        timestamp = request["headers"]["x-fsm-timestamp"]
        expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request["raw"], hashlib.sha256).hexdigest()
        return hmac.compare_digest(request["headers"]["x-fsm-signature"], f"sha256={expected}")


@pytest.fixture
def receiver():
    server = Receiver()
    server.thread.start()
    with override_settings(FSM_OUTGOING_ALLOWED_HOSTS=["127.0.0.1"]):
        yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def message():
    """An outbox message as a producer writes it (not drained)."""

    def make(topic: str, payload: dict, key: str | None = None) -> OutboxMessage:
        return OutboxMessage.objects.create(topic=topic, payload=payload, key=key)

    return make


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run `fn` and the after-commit work it schedules (the sweep enqueues after its commit)."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


@pytest.fixture
def consume(django_capture_on_commit_callbacks):
    """Consume a message like the drain does; the deliveries it enqueues run (immediate backend).
    Returns the ids of the deliveries created."""

    def run(msg, *, execute: bool = True):
        with django_capture_on_commit_callbacks(execute=execute):
            plan = consumers.plan_for(msg)
            return consumers.notify(msg, plan) if plan and plan.recipient_ids else []

    return run


@pytest.fixture
def notify_user(message, consume):
    """A delivered in-app notification for `user` (and whatever other channels they get)."""

    def make(user, *, title: str = "Hello", event: str = "sla.warning", url: str = "/orders/1/", key=None):
        msg = message(
            "sla.escalation",
            {"event": event, "recipients": [user.pk], "context": {"number": title}, "url": url},
            key=key,
        )
        consume(msg)
        return Notification.objects.get(key=f"{msg.key or f'm{msg.pk}'}:{user.pk}")

    return make


def deliveries_of(notification) -> dict[str, Delivery]:
    return {d.channel: d for d in Delivery.objects.filter(notification=notification)}
