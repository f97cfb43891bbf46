"""A real HTTP receiver on 127.0.0.1 (http.server in a thread) and the work order world of the
feedback tests, so webhooks are triggered through the real services."""

import hashlib
import hmac
import json
import socket
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings

from fieldservice.core import outbox
from fieldservice.webhooks import consumers
from fieldservice.webhooks.choices import DeliveryStatus
from fieldservice.webhooks.models import WebhookDelivery
from tests import factories
from tests.feedback.conftest import evaluate, make_order, world  # noqa: F401

# Everyone but the administrator.
OTHERS = [
    "agent",
    "dispatcher",
    "director",
    "parts_keeper",
    "engineer",
    "provider_admin",
    "provider_engineer",
    "other_provider_admin",
    "customer_user_a",
    "customer_user_z",
]
# A documentation network address: accepted without DNS, and nothing there ever answers.
PUBLIC_URL = "http://hooks10.example.com/hook"


class Receiver:
    """Records every POST; answers with the statuses queued in `answers` (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: deque[int] = deque()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append({"path": self.path, "headers": self.headers, "body": body})
                status = receiver.answers.popleft() if receiver.answers else 200
                answer = b'{"ok": true}' if status < 400 else b"receiver broke"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/fsm"

    def json(self, index: int = -1) -> dict:
        return json.loads(self.requests[index]["body"])


@pytest.fixture
def allow_loopback():
    with override_settings(FSM_OUTGOING_ALLOWED_HOSTS=["127.0.0.1"]):
        yield


@pytest.fixture
def receiver(allow_loopback):
    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def dead_url(allow_loopback):
    """An address on 127.0.0.1 where nothing listens (connection refused). The port stays bound,
    without listening, for the whole test: released, it could be handed to the next server the
    test (or another worker) starts, which would then answer the "dead" address."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hooks/fsm"


def signature_ok(request: dict, secret: str) -> bool:
    """What a receiver does (docs/WEBHOOKS.md): HMAC-SHA256 of "<timestamp>.<body>"."""
    headers = request["headers"]
    timestamp = headers["X-FSM-Timestamp"]
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    expected = f"sha256={digest}"
    return hmac.compare_digest(expected, headers["X-FSM-Signature"])


def make_due(delivery: WebhookDelivery) -> None:
    """Let the back-off pass: the retry is due now."""
    from django.utils import timezone

    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


@pytest.fixture
def hook(personas):
    """The admin's subscription to sla.breached at an address that is never sent to here."""
    return factories.webhook_subscription(actor=personas.admin, name="ERP", url=PUBLIC_URL, events=["sla.breached"])


def deliveries(count: int, status=DeliveryStatus.PENDING) -> list[WebhookDelivery]:
    """Deliveries made by the consumer (their tasks never run: nothing commits in these tests)."""
    made = []
    for number in range(count):
        message = outbox.emit("sla.breached", {"work_order": number, "number": f"WO{number}"})
        consumers.consume(message)
        made.append(WebhookDelivery.objects.get(message_id=message.pk))
    WebhookDelivery.objects.filter(pk__in=[d.pk for d in made]).update(status=status)
    return made
