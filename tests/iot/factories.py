"""Devices and messages for the iot tests."""

import datetime as dt
import json

from django.utils import timezone

from fieldservice.iot.choices import DeviceKind, Door
from fieldservice.iot.services.devices import issue_device
from fieldservice.iot.services.ingest import Envelope
from tests import factories


def device(admin, customer, machines=None, kind=None, **fields):
    """A device and its token, for one new machine of the customer unless machines are given."""
    machines = machines if machines is not None else [factories.equipment(customer, site=factories.site(customer))]
    kind = kind or (DeviceKind.MACHINE if len(machines) == 1 else DeviceKind.GATEWAY)
    fields.setdefault("name", f"Device {factories.seq()}")
    return issue_device(actor=admin, customer=customer, machines=machines, kind=kind, **fields)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def reading(metric="temperature", value=20.0, at=None, **extra):
    return {"metric": metric, "value": value, "unit": extra.pop("unit", "°C"), "at": iso(at or timezone.now()), **extra}


def alarm(code="E101", state="raised", at=None, **extra):
    return {"code": code, "state": state, "at": iso(at or timezone.now()), **extra}


def mqtt(token, topic_prefix=None, **body):
    """An envelope as the MQTT door makes it: the token in the payload, the topic's prefix."""
    return Envelope(Door.MQTT, json.dumps({"token": token, **body}).encode(), topic_prefix=topic_prefix or token[:16])


def http(token, **body):
    return Envelope(Door.HTTP, body, token=token)


# --- helper D: machine data and forecast ---


def store_readings(machine, metric, points, unit=""):
    """Readings of one machine's metric written directly: points are (moment, value) pairs; the
    latest value follows the last one."""
    from fieldservice.iot.models import LatestValue, Reading
    from fieldservice.iot.partitions import ensure_months

    points = list(points)
    ensure_months([at for at, _value in points])
    Reading.objects.bulk_create(
        [Reading(equipment=machine, metric=metric, at=at, value=value, unit=unit) for at, value in points],
        batch_size=2000,
    )
    if points:
        at, value = max(points, key=lambda point: point[0])
        LatestValue.objects.update_or_create(
            equipment=machine, metric=metric, defaults={"value": value, "at": at, "unit": unit}
        )


def heard_from(machine, at, every_seconds=300):
    """The machine was last heard from at `at`, and should report every `every_seconds`."""
    from fieldservice.iot.models import Presence

    Presence.objects.update_or_create(
        equipment=machine, defaults={"last_seen_at": at, "expected_interval_seconds": every_seconds}
    )


def alarm_code(admin, code="E101", **fields):
    """An alarm code mapped by the administrator (opens an order unless told otherwise)."""
    from fieldservice.iot.services.configuration import create_alarm_mapping

    return create_alarm_mapping(actor=admin, code=code, **fields)


def threshold_rule(admin, metric="temperature", kind="above", **fields):
    from fieldservice.iot.services.configuration import create_threshold_rule

    fields.setdefault("name", f"Rule {factories.seq()}")
    if kind in ("above", "below", "rate"):
        fields.setdefault("value", 80.0)
    return create_threshold_rule(actor=admin, metric=metric, kind=kind, **fields)


def machine_world(personas, now):
    """Machines of customer A (one visited by an engineer of ours, one dispatched to provider B,
    one alone) and of customer Z, each with a temperature five minutes before `now` and heard from
    a minute before it: who may see which machine's data."""
    from types import SimpleNamespace

    from fieldservice.dispatch.assignments.services import dispatch_to_engineer, dispatch_to_provider

    p = personas
    engineer = factories.engineer(p.own)
    a_visited = factories.equipment(p.customer_a, site=factories.site(p.customer_a, city="Ningbo"))
    a_provider = factories.equipment(p.customer_a, site=factories.site(p.customer_a))
    a_alone = factories.equipment(p.customer_a)
    z_machine = factories.equipment(p.customer_z, site=factories.site(p.customer_z))
    visit = factories.work_order(p.customer_a, actor=p.agent, equipment=a_visited)
    dispatch_to_engineer(visit, actor=p.dispatcher, engineer=engineer)
    for_provider = factories.work_order(p.customer_a, actor=p.agent, equipment=a_provider)
    dispatch_to_provider(for_provider, actor=p.dispatcher, provider=p.provider)
    for machine in (a_visited, a_provider, a_alone, z_machine):
        store_readings(machine, "temperature", [(now - dt.timedelta(minutes=5), 40.0)], unit="°C")
        heard_from(machine, now - dt.timedelta(minutes=1))
    return SimpleNamespace(
        p=p,
        engineer=engineer,
        a_visited=a_visited,
        a_provider=a_provider,
        a_alone=a_alone,
        z_machine=z_machine,
        visit=visit,
        for_provider=for_provider,
    )
