"""The MQTT door: `fsm iot` subscribes to the broker and feeds what devices publish to the one
ingest path (`iot.services.ingest.ingest`).

Every ingest process joins one MQTT v5 shared subscription, `$share/<group>/<root>/devices/+/messages`
at QoS 1, so the broker hands each message to one of them: several processes on several machines
split the load. The device segment of the topic is the device's token prefix; the token itself is
in the payload (docs/IOT.md).

Nothing is acknowledged before it is stored. paho's network thread puts each message on a queue;
the writer (the calling thread) takes up to `batch_size` messages or what came within
`batch_ms`, stores them with one `ingest()` call (one transaction) and only after the commit sends
their PUBACKs. A process killed at any moment leaves nothing half-written and the broker delivers
again what was not acknowledged; storage is idempotent, so a message delivered twice is stored
once. The session is persistent (clean start off, a session expiry): QoS-1 messages published while
the process is away wait at the broker for it. A lost connection is retried with back-off; a batch
whose transaction fails (database down) is retried with back-off and acknowledged once stored.

Alarms do not queue behind readings: a message that carries alarms goes into its own lane, which
the writer empties first, in small batches, so an alarm waits at most for the batch being written.
A batch also stops at `batch_bytes`, so that batch is never long.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections

from fieldservice.iot.choices import Door
from fieldservice.iot.services.ingest import Envelope, ingest

logger = logging.getLogger("fieldservice.iot.mqtt")

DEFAULT_URL = "mqtt://127.0.0.1:1883"


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_url(url: str) -> Broker:
    """mqtt://[user[:password]@]host[:port] (1883) or mqtts://… (8883)."""
    parts = urlsplit((url or DEFAULT_URL).strip())
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"the broker URL must be mqtt://host[:port] or mqtts://host[:port], got {url!r}")
    tls = parts.scheme == "mqtts"
    return Broker(
        host=parts.hostname,
        port=parts.port or (8883 if tls else 1883),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def topic_root() -> str:
    return settings.FSM_MQTT_TOPIC_ROOT


def device_topic(prefix: str, root: str | None = None) -> str:
    """Where a device publishes."""
    return f"{root or topic_root()}/devices/{prefix}/messages"


def subscription(group: str, root: str | None = None) -> str:
    return f"$share/{group}/{root or topic_root()}/devices/+/messages"


def prefix_in(topic: str, root: str) -> str | None:
    """The device segment of `<root>/devices/<prefix>/messages` (None for another topic)."""
    head = f"{root}/devices/"
    if not topic.startswith(head) or not topic.endswith("/messages"):
        return None
    segment = topic[len(head) : -len("/messages")]
    return segment if segment and "/" not in segment else None


def default_client_id() -> str:
    return settings.FSM_MQTT_CLIENT_ID or f"fsm-iot-{socket.gethostname()}"[:64]


@dataclass
class _Message:
    mid: int
    qos: int
    topic: str
    payload: bytes
    generation: int  # the connection it came on: a PUBACK is only sent on that connection


@dataclass
class Stats:
    messages: int = 0
    stored: int = 0
    refused: int = 0
    readings: int = 0
    alarms: int = 0
    batches: int = 0
    retries: int = 0


class Ingester:
    """One `fsm iot` process: connect, subscribe, and store in batches until `stop()`."""

    def __init__(
        self,
        url: str | None = None,
        *,
        group: str | None = None,
        root: str | None = None,
        client_id: str | None = None,
        batch_size: int = 1000,
        batch_ms: int = 200,
        batch_bytes: int = 2_000_000,
        session_expiry: int = 7 * 24 * 3600,
        receive_maximum: int = 3000,
        keepalive: int = 30,
        min_delay: float = 1.0,
        max_delay: float = 30.0,
    ):
        self.broker = parse_url(url if url is not None else (settings.FSM_MQTT_URL or DEFAULT_URL))
        self.group = group or settings.FSM_MQTT_GROUP
        self.root = (root or topic_root()).strip("/")
        self.client_id = client_id or default_client_id()
        self.batch_size, self.batch_ms = max(1, batch_size), max(1, batch_ms)
        self.batch_bytes = max(1, batch_bytes)
        self.session_expiry, self.receive_maximum, self.keepalive = session_expiry, receive_maximum, keepalive
        self.min_delay, self.max_delay = min_delay, max_delay
        self.messages: queue.Queue[_Message] = queue.Queue()
        self.alarms: queue.Queue[_Message] = queue.Queue()  # messages that carry alarms, first
        self.stopping = threading.Event()
        self.connected = threading.Event()
        self.generation = 0
        self.stats = Stats()
        self.client = self._client()

    # -- the network thread (paho) -------------------------------------------------------------

    def _client(self):
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        if self.broker.username is not None:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set(ca_certs=settings.FSM_MQTT_CA_FILE or None)
        client.reconnect_delay_set(min_delay=max(1, int(self.min_delay)), max_delay=max(1, int(self.max_delay)))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _connect_properties(self):
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.session_expiry
        # At most this many messages unacknowledged at once: the rest wait at the broker.
        properties.ReceiveMaximum = self.receive_maximum
        return properties

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            logger.error("MQTT broker %s refused the connection: %s", self.broker, reason_code)
            return
        self.generation += 1
        from paho.mqtt.subscribeoptions import SubscribeOptions

        logger.info(
            "Connected to %s as %s (session %s); subscribing to %s",
            self.broker,
            self.client_id,
            "resumed" if flags.session_present else "new",
            subscription(self.group, self.root),
        )
        client.subscribe(subscription(self.group, self.root), options=SubscribeOptions(qos=1))

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        if any(code.is_failure for code in reason_codes):
            logger.error("The broker refused the subscription: %s", reason_codes)
            return
        logger.info("Subscribed to %s", subscription(self.group, self.root))
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        if not self.stopping.is_set():
            logger.warning(
                "Lost the connection to %s (%s); reconnecting with back-off (%s to %s s)",
                self.broker,
                reason_code,
                self.min_delay,
                self.max_delay,
            )

    def _on_message(self, client, userdata, message):
        payload = bytes(message.payload)
        # A look for the key, not a parse: a reading that merely mentions it only goes first too.
        lane = self.alarms if b'"alarms"' in payload else self.messages
        lane.put(_Message(message.mid, message.qos, message.topic, payload, self.generation))

    # -- the writer (the calling thread) ---------------------------------------------------------

    def start(self) -> None:
        self.client.connect_async(
            self.broker.host,
            self.broker.port,
            keepalive=self.keepalive,
            clean_start=False,
            properties=self._connect_properties(),
        )
        self.client.loop_start()

    def stop(self) -> None:
        """Ask the writer to finish its batch, acknowledge it and disconnect (a signal handler)."""
        self.stopping.set()

    def run(self, *, until=None) -> Stats:
        """Store batches until stopped (or `until()` holds). Then the messages already received are
        stored and acknowledged, and the client disconnects; what the broker sends meanwhile stays
        unacknowledged in the session, for the next start."""
        self.start()
        last_report = time.monotonic()
        try:
            while not self.stopping.is_set() and not (until and until()):
                urgent = self._take(min(self.batch_size, 100), 0, self.alarms)
                if urgent:
                    self._store(urgent)
                    continue
                batch = self._take(self.batch_size, self.batch_ms / 1000)
                if batch:
                    self._store(batch)
                if time.monotonic() - last_report >= 60:
                    last_report = time.monotonic()
                    logger.info("MQTT ingest: %s", self.stats)
            # Drain what arrived before the stop, then leave.
            for lane in (self.alarms, self.messages):
                pending = lane.qsize()
                while pending > 0:
                    batch = self._take(min(pending, self.batch_size), 0, lane)
                    if not batch:
                        break
                    pending -= len(batch)
                    self._store(batch, give_up=True)
        finally:
            self.client.disconnect()
            self.client.loop_stop()
            connections.close_all()
        return self.stats

    def _take(self, limit: int, wait: float, lane: queue.Queue | None = None) -> list[_Message]:
        """Up to `limit` messages (and `batch_bytes`) of a lane, waiting at most `wait` seconds for
        them; while an alarm is waiting, no longer for readings."""
        lane = self.messages if lane is None else lane
        batch: list[_Message] = []
        size = 0
        deadline = time.monotonic() + wait
        while len(batch) < limit and size < self.batch_bytes:
            remaining = deadline - time.monotonic()
            if lane is self.messages and batch and not self.alarms.empty():
                break
            try:
                if remaining <= 0:
                    message = lane.get_nowait()
                else:
                    message = lane.get(timeout=min(remaining, 0.02))
            except queue.Empty:
                if remaining <= 0:
                    break
                continue
            batch.append(message)
            size += len(message.payload)
        return batch

    def _envelopes(self, batch: list[_Message]) -> list[Envelope]:
        # A topic without a device segment names no device: the check refuses it as another's.
        return [
            Envelope(Door.MQTT, message.payload, topic_prefix=prefix_in(message.topic, self.root) or "")
            for message in batch
        ]

    def _store(self, batch: list[_Message], *, give_up: bool = False) -> None:
        """Store the batch in one transaction, then acknowledge it; while the database fails, wait
        and try again (nothing acknowledged, so nothing lost however long it takes)."""
        envelopes = self._envelopes(batch)
        delay = self.min_delay
        while True:
            close_old_connections()
            try:
                outcomes = ingest(envelopes)
                break
            except (OperationalError, InterfaceError):
                self.stats.retries += 1
                connections.close_all()
                if give_up and self.stopping.is_set():
                    logger.warning("Database unavailable while stopping: %s messages left unacknowledged", len(batch))
                    return
                logger.warning(
                    "Storing %s MQTT messages failed (database unavailable?); retrying in %.0f s",
                    len(batch),
                    delay,
                    exc_info=True,
                )
                if self.stopping.wait(delay):
                    logger.warning(
                        "Stopped: %s messages left unacknowledged for the broker to deliver again", len(batch)
                    )
                    return
                delay = min(delay * 2, self.max_delay)
            except Exception:
                # Not the database being down: a message this path cannot store (a bug, e.g. in a
                # rule). Store the others one by one, so one poisoned message does not stop the stream.
                logger.exception("A batch of %s MQTT messages failed; storing them one by one", len(batch))
                outcomes = self._one_by_one(envelopes)
                break
        self._count(batch, outcomes)
        self._ack(batch)

    def _one_by_one(self, envelopes: list[Envelope]) -> list:
        from fieldservice.iot.services.ingest import Outcome

        outcomes = []
        for envelope in envelopes:
            try:
                outcomes.extend(ingest([envelope]))
            except (OperationalError, InterfaceError):
                raise
            except Exception:
                logger.exception("Dropped an MQTT message that cannot be stored: %r", envelope.payload[:300])
                outcomes.append(Outcome(False, "error", "cannot be stored"))
        return outcomes

    def _count(self, batch, outcomes) -> None:
        stats = self.stats
        stats.batches += 1
        stats.messages += len(batch)
        for outcome in outcomes:
            if outcome.ok:
                stats.stored += 1
                stats.readings += outcome.readings
                stats.alarms += outcome.alarms
            else:
                stats.refused += 1

    def _ack(self, batch: list[_Message]) -> None:
        generation = self.generation
        for message in batch:
            # A message received on an earlier connection is delivered again on this one (its
            # packet id may since name another message): that copy is the one to acknowledge.
            if message.qos > 0 and message.generation == generation:
                self.client.ack(message.mid, message.qos)
