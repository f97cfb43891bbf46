"""Scoped queries of devices and the messages refused: the administrator's alone (anyone else
sees an empty list, and a 404 for one device)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from fieldservice.accounts.models import User
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.models import Equipment
from fieldservice.iot.models import Device, Rejection
from fieldservice.iot.permissions import may_manage_devices


def devices_for(actor: User) -> QuerySet[Device]:
    if not may_manage_devices(actor):
        return Device.objects.none()
    return Device.objects.select_related("customer").annotate(machine_count=Count("machines", distinct=True))


def filter_devices(
    devices: QuerySet[Device], *, q: str = "", customer: int | None = None, kind: str = "", state: str = ""
) -> QuerySet[Device]:
    q = (q or "").strip()[:100]
    if q:
        devices = devices.filter(
            Q(name__icontains=q)
            | Q(prefix__istartswith=q)
            | Q(customer__name__icontains=q)
            | Q(machines__serial_number__icontains=q)
        ).distinct()
    if customer:
        devices = devices.filter(customer_id=customer)
    if kind:
        devices = devices.filter(kind=kind)
    if state == "active":
        devices = devices.filter(revoked_at__isnull=True)
    elif state == "revoked":
        devices = devices.filter(revoked_at__isnull=False)
    return devices


def get_device_for(actor: User, pk) -> Device:
    device = devices_for(actor).filter(pk=pk).first() if isinstance(pk, int) else None
    if device is None:
        raise Http404
    return device


def machines_of(device: Device) -> QuerySet[Equipment]:
    """The machines the device reports for, with when each was last heard from."""
    return device.machines.select_related("product_model", "presence").order_by("serial_number")


def machines_to_serve(actor: User, customer) -> QuerySet[Equipment]:
    """The machines a device of this customer may be given: its registered ones."""
    if not may_manage_devices(actor) or customer is None:
        return Equipment.objects.none()
    return Equipment.objects.filter(customer=customer, status=EquipmentStatus.REGISTERED).order_by("serial_number")


def rejections_for(actor: User, *, prefix: str | None = None, since: dt.date | None = None) -> QuerySet[Rejection]:
    """The refused messages counted per day, door, reason and device (by its token prefix)."""
    if not may_manage_devices(actor):
        return Rejection.objects.none()
    rejections = Rejection.objects.all()
    if prefix is not None:
        rejections = rejections.filter(device_prefix=prefix)
    if since is not None:
        rejections = rejections.filter(day__gte=since)
    return rejections.order_by("-day", "door", "reason", "device_prefix")


def rejection_totals(rejections: QuerySet[Rejection]) -> dict[str, int]:
    """How many were refused, by reason."""
    return dict(rejections.order_by().values_list("reason").annotate(total=Sum("count")).values_list("reason", "total"))


def device_names(prefixes) -> dict[str, Device]:
    """The devices known by these prefixes (a rejection names the prefix the message claimed)."""
    return {d.prefix: d for d in Device.objects.filter(prefix__in=set(prefixes) - {""})}
