"""Devices that publish what simulated machines (iot/simulation.py) read, over MQTT or the HTTP
bulk endpoint, exactly as a real device would: the token in the payload on MQTT, in the
`Authorization: Device <token>` header over HTTP. The device simulator (bench/iot_sim.py) and the
demo (`fsm demo_devices`, started by `fsm serve --demo-devices`) both run `publish`.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from fieldservice.iot.simulation import LiveMachine


@dataclass
class SimDevice:
    name: str
    prefix: str
    token: str
    serials: list[str]


def with_new_tokens(devices, *, actor) -> list[SimDevice]:
    """The devices, each with a new token: a token is shown only once, so a simulator that
    takes over a device issued earlier rotates it (the device's page says so)."""
    from fieldservice.iot.services.devices import rotate_token

    found = []
    for device in devices:
        token = rotate_token(device, actor=actor)
        device.refresh_from_db(fields=["prefix"])
        serials = sorted(device.machines.values_list("serial_number", flat=True))
        found.append(SimDevice(device.name, device.prefix, token, serials))
    return found


class MqttPublisher:
    def __init__(self, url: str, root: str, client_id: str = ""):
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        from fieldservice.iot.mqtt import parse_url

        self.broker, self.root = parse_url(url), root
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if self.broker.username is not None:
            self.client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            self.client.tls_set()
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self.client.connect(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()

    def send(self, device: SimDevice, body: dict) -> None:
        payload = json.dumps({"token": device.token, **body}, separators=(",", ":"))
        self.client.publish(f"{self.root}/devices/{device.prefix}/messages", payload, qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class HttpPublisher:
    """POSTs each message to the bulk endpoint. `wait` seconds at the start for the server to
    answer (the demo starts the simulator beside a server that is still starting)."""

    def __init__(self, url: str, *, wait: float = 0.0):
        self.url = url
        self.failures = 0
        deadline = time.monotonic() + wait
        while wait and time.monotonic() < deadline:
            try:
                # A GET: the endpoint answers 405 without counting a refused message.
                with urllib.request.urlopen(self.url, timeout=5):  # noqa: S310 - the URL is the user's
                    break
            except urllib.error.HTTPError:
                break  # it answered: it is up
            except OSError:
                time.sleep(1)

    def _post(self, data: bytes, token: str) -> bytes:
        request = urllib.request.Request(
            self.url,
            data=data,
            headers={"Authorization": f"Device {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the URL is the user's
            return response.read()

    def send(self, device: SimDevice, body: dict) -> None:
        try:
            self._post(json.dumps(body).encode(), device.token)
        except OSError as error:
            self.failures += 1
            if self.failures <= 3 or self.failures % 100 == 0:  # say it, without flooding the terminal
                print(f"{device.name}: {error} ({self.failures} failed so far)", file=sys.stderr)

    def close(self) -> None:
        pass


@dataclass
class Sent:
    messages: int = 0
    readings: int = 0
    alarms: int = 0


def publish(
    devices: list[SimDevice],
    machines: dict[str, list[LiveMachine]],
    publisher,
    *,
    interval: float,
    duration: float | None = None,
) -> Sent:
    """Every `interval` seconds each device sends one message with what its machines read and
    raised (`machines`: by device prefix), until `duration` is over or Ctrl-C."""
    sent = Sent()
    end = time.monotonic() + duration if duration else None
    try:
        while end is None or time.monotonic() < end:
            tick = time.monotonic()
            now = dt.datetime.now(dt.UTC)
            for device in devices:
                body = {"readings": [], "alarms": []}
                for machine in machines[device.prefix]:
                    new_readings, new_alarms = machine.tick(now)
                    body["readings"] += new_readings
                    body["alarms"] += new_alarms
                if body["readings"] or body["alarms"]:
                    publisher.send(device, body)
                    sent.messages += 1
                    sent.readings += len(body["readings"])
                    sent.alarms += len(body["alarms"])
            time.sleep(max(0.0, interval - (time.monotonic() - tick)))
    except KeyboardInterrupt:
        pass
    finally:
        publisher.close()
    return sent
