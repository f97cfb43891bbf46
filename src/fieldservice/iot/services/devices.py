"""Device credentials: issued and revoked by the administrator, checked on every message."""

from __future__ import annotations

import hashlib
import hmac

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import Equipment
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import SECRET_ROTATED, UPDATED, record_event
from fieldservice.customers.models import Customer
from fieldservice.iot.choices import DeviceKind
from fieldservice.iot.models import Device, Presence
from fieldservice.iot.permissions import may_manage_devices

PREFIX_LENGTH = 16  # "dev_" and 12 characters: what a topic and the rejection counts name


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def prefix_of(token: str) -> str:
    return token[:PREFIX_LENGTH]


def token_matches(device: Device, token: str) -> bool:
    return hmac.compare_digest(device.digest, digest(token))


def _machines(customer: Customer, machines, kind: str) -> list[Equipment]:
    machines = list(machines)
    if not machines:
        raise field_error("machines", _("Choose the machines the device reports for."), "required")
    if kind == DeviceKind.MACHINE and len(machines) != 1:
        raise field_error("machines", _("A machine's own device reports for that one machine."), "one_machine")
    for machine in machines:
        if machine.customer_id != customer.pk:
            raise field_error(
                "machines",
                _("Machine %(serial)s belongs to another customer.") % {"serial": machine.serial_number},
                "other_customer",
            )
        if machine.status != EquipmentStatus.REGISTERED:
            raise field_error(
                "machines",
                _("Machine %(serial)s is not registered.") % {"serial": machine.serial_number},
                "not_registered",
            )
    return machines


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise field_error("name", _("Name the device, e.g. after the machine or gateway."), "required")
    if len(name) > 100:
        raise field_error("name", _("At most 100 characters."), "max_length")
    return name


def _interval(seconds) -> int:
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        raise field_error("expected_interval_seconds", _("A whole number of seconds."), "invalid") from None
    if not 10 <= seconds <= 7 * 24 * 3600:
        raise field_error("expected_interval_seconds", _("Between 10 seconds and 7 days."), "out_of_range")
    return seconds


@transaction.atomic
def issue_device(
    *,
    actor: User,
    name: str,
    customer: Customer,
    machines,
    kind: str = DeviceKind.MACHINE,
    expected_interval_seconds: int = 300,
) -> tuple[Device, str]:
    """A new device and its token, which is shown this once and never again."""
    require(may_manage_devices(actor))
    name = _name(name)
    if customer is None:
        raise field_error("customer", _("Choose the customer whose machines the device reports for."), "required")
    if kind not in DeviceKind.values:
        raise field_error("kind", _("Unknown device kind."), "invalid_choice")
    expected_interval_seconds = _interval(expected_interval_seconds)
    machines = _machines(customer, machines, kind)
    token = Device.generate_token()
    device = Device.objects.create(
        name=name,
        kind=kind,
        customer=customer,
        prefix=prefix_of(token),
        digest=digest(token),
        expected_interval_seconds=expected_interval_seconds,
        created_by=actor,
    )
    device.machines.set(machines)
    record_event(device, actor=actor, action="created", note=name)
    return device, token


@transaction.atomic
def update_device(
    device: Device,
    *,
    actor: User,
    name: str | None = None,
    machines=None,
    expected_interval_seconds: int | None = None,
) -> Device:
    """Rename a device, change the machines it reports for (of its customer, checked as when it
    was issued) or how often it should report. Its customer and kind stay: issue another device."""
    require(may_manage_devices(actor))
    device = Device.objects.select_for_update().get(pk=device.pk)
    changed = []
    if name is not None:
        device.name = _name(name)
        changed.append("name")
    if expected_interval_seconds is not None:
        device.expected_interval_seconds = _interval(expected_interval_seconds)
        changed.append("expected_interval_seconds")
    if machines is not None:
        machines = _machines(device.customer, machines, device.kind)
    if changed:
        device.save(update_fields=changed)
    if machines is not None:
        device.machines.set(machines)
    if "expected_interval_seconds" in changed:
        # The machines' presence follows at once, not at the next message.
        Presence.objects.filter(device=device).update(expected_interval_seconds=device.expected_interval_seconds)
    if changed or machines is not None:
        record_event(device, actor=actor, action=UPDATED, note=device.name)
    return device


@transaction.atomic
def rotate_token(device: Device, *, actor: User) -> str:
    """A new token for the device; the old one stops working at once."""
    require(may_manage_devices(actor))
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.revoked_at is not None:
        raise DomainError("revoked", _("This device's credentials are revoked."))
    token = Device.generate_token()
    device.prefix, device.digest = prefix_of(token), digest(token)
    device.save(update_fields=["prefix", "digest"])
    record_event(device, actor=actor, action=SECRET_ROTATED)
    return token


@transaction.atomic
def revoke_device(device: Device, *, actor: User) -> Device:
    require(may_manage_devices(actor))
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.revoked_at is not None:
        raise DomainError("already_revoked", _("This device's credentials are already revoked."))
    device.revoked_at = timezone.now()
    device.save(update_fields=["revoked_at"])
    record_event(device, actor=actor, action="revoked")
    return device
