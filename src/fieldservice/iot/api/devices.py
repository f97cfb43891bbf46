"""HTTP API of devices (under /api/v1/iot/devices) and of the messages refused
(/api/v1/iot/rejections): the administrator's.

A device's token is in the answer of its creation and of a rotation, once; no other answer has it
(only its prefix, which topics and refusal counts name). Anyone but the administrator lists nothing,
gets a 404 for one device and a 403 for a change."""

from datetime import date, datetime

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.assets.models import Equipment
from fieldservice.core.api import Id, Int32, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import field_error, require
from fieldservice.customers.models import Customer
from fieldservice.iot.models import Device
from fieldservice.iot.permissions import may_manage_devices
from fieldservice.iot.selectors import devices as selectors
from fieldservice.iot.services import devices as services

router = Router(tags=["iot"])

MAX_MACHINES = 1000


class DeviceOut(Schema):
    id: int
    name: str
    kind: str
    customer: int = Field(validation_alias="customer_id")
    prefix: str
    expected_interval_seconds: int
    created_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None
    machine_count: int = 0

    @staticmethod
    def resolve_machine_count(obj) -> int:
        count = getattr(obj, "machine_count", None)
        return count if count is not None else obj.machines.count()


class MachineOut(Schema):
    id: int
    serial_number: str
    last_seen_at: datetime | None = None

    @staticmethod
    def resolve_last_seen_at(obj):
        presence = getattr(obj, "presence", None)  # none yet: a missing reverse one-to-one
        return presence.last_seen_at if presence is not None else None


class RejectionCountOut(Schema):
    reason: str
    count: int


class DeviceDetailOut(DeviceOut):
    machines: list[MachineOut]
    rejections: list[RejectionCountOut]

    @staticmethod
    def resolve_machines(obj) -> list:
        return list(selectors.machines_of(obj))

    @staticmethod
    def resolve_rejections(obj) -> list[dict]:
        totals = selectors.rejection_totals(selectors.Rejection.objects.filter(device_prefix=obj.prefix))
        return [{"reason": reason, "count": count} for reason, count in sorted(totals.items())]


class DeviceTokenOut(DeviceDetailOut):
    """A device as created or rotated: with its token, shown this once (absent on a repeat of the
    call with the same Idempotency-Key, since it is kept nowhere)."""

    token: str | None = None

    @staticmethod
    def resolve_token(obj) -> str | None:
        return getattr(obj, "issued_token", None)


class DeviceIn(StrictSchema):
    __model__ = Device
    name: str
    customer: Id
    kind: str = Field("machine", max_length=10)
    machines: list[Id] = Field(..., max_length=MAX_MACHINES)
    expected_interval_seconds: Int32 = 300


class DeviceChangeIn(StrictSchema):
    __model__ = Device
    name: str | None = None
    machines: list[Id] | None = Field(None, max_length=MAX_MACHINES)
    expected_interval_seconds: Int32 | None = None


class RejectionOut(Schema):
    day: date
    door: str
    reason: str
    device_prefix: str
    device: int | None = None
    count: int
    last_detail: str


def _machines(ids: list[int], customer: Customer | None) -> list[Equipment]:
    found = {m.pk: m for m in Equipment.objects.filter(pk__in=set(ids))}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise field_error("machines", _("No machine with id %(id)s.") % {"id": missing[0]}, "does_not_exist")
    return [found[pk] for pk in dict.fromkeys(ids)]


@router.get("/devices", response=list[DeviceOut])
@paginate(PageNumberPagination, page_size=50)
def list_devices(request, q: str = "", customer: Id | None = None, kind: str = "", state: str = ""):
    """Devices, by name (administrator only; anyone else gets an empty list). `state`: active or revoked."""
    return selectors.filter_devices(
        selectors.devices_for(request.user), q=q, customer=customer, kind=kind[:10], state=state[:10]
    )


@router.post("/devices", response={201: DeviceTokenOut})
@idempotent
def create_device(request, payload: DeviceIn):
    """Issue a device and its token; the answer holds the token, the only time it is shown."""
    require(may_manage_devices(request.user))
    customer = Customer.objects.filter(pk=payload.customer).first()
    if customer is None:
        raise field_error("customer", _("No customer with this id."), "does_not_exist")
    device, token = services.issue_device(
        actor=request.user,
        name=payload.name,
        customer=customer,
        machines=_machines(payload.machines, customer),
        kind=payload.kind,
        expected_interval_seconds=payload.expected_interval_seconds,
    )
    device.issued_token = token
    return 201, device


@router.get("/devices/{int:device_id}", response=DeviceDetailOut)
def get_device(request, device_id: Id):
    return selectors.get_device_for(request.user, device_id)


@router.patch("/devices/{int:device_id}", response=DeviceDetailOut)
def update_device(request, device_id: Id, payload: DeviceChangeIn):
    """Change the name, the machines (of the device's customer) or the expected interval."""
    device = selectors.get_device_for(request.user, device_id)
    machines = _machines(payload.machines, device.customer) if payload.machines is not None else None
    services.update_device(
        device,
        actor=request.user,
        name=payload.name,
        machines=machines,
        expected_interval_seconds=payload.expected_interval_seconds,
    )
    return selectors.get_device_for(request.user, device_id)


@router.post("/devices/{int:device_id}/revoke", response=DeviceDetailOut)
def revoke_device(request, device_id: Id):
    """The device's token stops working at once; its messages are refused (and counted)."""
    device = selectors.get_device_for(request.user, device_id)
    services.revoke_device(device, actor=request.user)
    return selectors.get_device_for(request.user, device_id)


@router.post("/devices/{int:device_id}/rotate", response=DeviceTokenOut)
def rotate_device_token(request, device_id: Id):
    """A new token (in the answer, this once); the old one stops working at once."""
    device = selectors.get_device_for(request.user, device_id)
    token = services.rotate_token(device, actor=request.user)
    device = selectors.get_device_for(request.user, device_id)
    device.issued_token = token
    return device


@router.get("/rejections", response=list[RejectionOut])
@paginate(PageNumberPagination, page_size=100)
def list_rejections(request, device: Id | None = None, reason: str = "", door: str = "", since: date | None = None):
    """Messages refused, counted per day, door, reason and device prefix (administrator only)."""
    rejections = selectors.rejections_for(request.user, since=since)
    if device is not None:
        known = selectors.devices_for(request.user).filter(pk=device).first()
        rejections = rejections.filter(device_prefix=known.prefix) if known else rejections.none()
    if reason:
        rejections = rejections.filter(reason=reason[:20])
    if door:
        rejections = rejections.filter(door=door[:8])
    rows = list(rejections[:10_000])
    names = selectors.device_names(r.device_prefix for r in rows)
    for row in rows:
        known = names.get(row.device_prefix)
        row.device = known.pk if known else None
    return rows
