"""HTTP API of requisitions, transfers and returns (under /api/v1/). A move is a verb
(`POST /transfers/{id}/approve`); quantities are strings or numbers the service parses, and a
refused one names its line (`quantities[<line id>]`). The same approval or receipt sent twice
moves stock once: the second is a 409 with the code of the state it found (`already_approved`)."""

from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.pagination import paginate

from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import field_error, require
from fieldservice.inventory import selectors, services
from fieldservice.inventory.models import Transfer, TransferLine
from fieldservice.inventory.services.transfers import may_view_requests_of

router = Router(tags=["inventory"])

Quantity = Decimal | str


class TransferLineOut(Schema):
    id: int
    part: int
    part_number: str
    lot: str
    grade: str
    requested: Decimal
    approved: Decimal
    shipped: Decimal
    received: Decimal
    shortfall: Decimal
    defect: int | None = None
    serials: list[str]

    @staticmethod
    def resolve_part(obj) -> int:
        return obj.part_id

    @staticmethod
    def resolve_part_number(obj) -> str:
        return obj.part.part_number

    @staticmethod
    def resolve_defect(obj) -> int | None:
        return obj.defect_id

    @staticmethod
    def resolve_serials(obj) -> list[str]:
        return [unit.serial for unit in obj.units.all()]


class TransferOut(Schema):
    id: int
    number: str | None
    kind: str
    status: str
    source: int
    source_name: str
    destination: int
    destination_name: str
    urgent: bool
    work_order_id: int | None
    work_order_number: str
    note: str
    delivery: str
    carrier: str
    tracking_number: str
    requested_by: int | None
    requested_at: datetime
    approved_at: datetime | None
    shipped_at: datetime | None
    received_at: datetime | None
    closed_note: str

    @staticmethod
    def resolve_source(obj) -> int:
        return obj.source_id

    @staticmethod
    def resolve_destination(obj) -> int:
        return obj.destination_id

    @staticmethod
    def resolve_source_name(obj) -> str:
        return obj.source.name

    @staticmethod
    def resolve_destination_name(obj) -> str:
        return obj.destination.name

    @staticmethod
    def resolve_requested_by(obj) -> int | None:
        return obj.requested_by_id


class TransferDetailOut(TransferOut):
    lines: list[TransferLineOut]

    @staticmethod
    def resolve_lines(obj) -> list[TransferLine]:
        return list(obj.lines.select_related("part").prefetch_related("units").order_by("pk"))


class TransferLineIn(StrictSchema):
    __model__ = TransferLine
    part: Id
    quantity: Quantity
    lot: str = ""
    grade: str = ""


class TransferIn(StrictSchema):
    __model__ = Transfer
    kind: str
    source: Id
    destination: Id
    lines: list[TransferLineIn] = []
    defects: list[Id] = []
    urgent: bool = False
    note: str = ""
    delivery: str = "ship"
    work_order_id: Id | None = None
    work_order_number: str = ""


class ApproveIn(StrictSchema):
    quantities: dict[int, Quantity] = {}


class ReasonIn(StrictSchema):
    __columns__ = {"reason": (Transfer, "closed_note")}
    reason: str


class TransferCancelIn(StrictSchema):
    __columns__ = {"reason": (Transfer, "closed_note")}
    reason: str = ""


class TransferShipIn(StrictSchema):
    __model__ = Transfer
    delivery: str | None = None
    carrier: str = ""
    tracking_number: str = ""
    serials: dict[int, list[str] | str] = {}


class TransferReceiveIn(StrictSchema):
    quantities: dict[int, Quantity] = {}
    missing: dict[int, list[str] | str] = {}


def _place(user, pk: int, field: str):
    # A warehouse the user cannot see is reported on its field like any other bad value.
    place = selectors.transfer_places_for(user).filter(pk=pk).first()
    if place is None:
        raise field_error(field, _("No warehouse with id %(id)s.") % {"id": pk}, "does_not_exist")
    return place


def _detail(user, transfer: Transfer) -> Transfer:
    return selectors.get_transfer_for(user, transfer.pk)


@router.get("/transfers", response=list[TransferOut])
@paginate(PageNumberPagination, page_size=50)
def list_transfers(request, kind: str = "", status: str = "", warehouse: Id | None = None, q: str = ""):
    require(may_view_requests_of(request.user))
    transfers = selectors.transfers_for(request.user)
    place = None
    if warehouse is not None:
        place = selectors.warehouses_for(request.user).filter(pk=warehouse).first()
        if place is None:
            return transfers.none()
    return selectors.filter_transfers(transfers, q=q, kind=kind, status=status, warehouse=place)


@router.get("/transfers/{int:transfer_id}", response=TransferDetailOut)
def get_transfer(request, transfer_id: Id):
    return selectors.get_transfer_for(request.user, transfer_id)


@router.post("/transfers", response={201: TransferDetailOut})
@idempotent
def create_transfer(request, payload: TransferIn):
    user = request.user
    source = _place(user, payload.source, "source")
    destination = _place(user, payload.destination, "destination")
    defects = []
    if payload.defects:
        defects = list(selectors.defects_for(user).filter(pk__in=payload.defects))
        if len(defects) != len(set(payload.defects)):
            raise field_error("defects", _("Unknown defective part."), "does_not_exist")
    transfer = services.request_transfer(
        actor=user,
        kind=payload.kind,
        source=source,
        destination=destination,
        lines=[line.model_dump(exclude_defaults=False) for line in payload.lines],
        defects=defects,
        urgent=payload.urgent,
        note=payload.note,
        delivery=payload.delivery,
        work_order_id=payload.work_order_id,
        work_order_number=payload.work_order_number,
    )
    return 201, _detail(user, transfer)


@router.post("/transfers/{int:transfer_id}/approve", response=TransferDetailOut)
def approve_transfer(request, transfer_id: Id, payload: ApproveIn):
    transfer = selectors.get_transfer_for(request.user, transfer_id)
    services.approve_transfer(transfer, actor=request.user, quantities=payload.quantities)
    return _detail(request.user, transfer)


@router.post("/transfers/{int:transfer_id}/reject", response=TransferDetailOut)
def reject_transfer(request, transfer_id: Id, payload: ReasonIn):
    transfer = selectors.get_transfer_for(request.user, transfer_id)
    services.reject_transfer(transfer, actor=request.user, reason=payload.reason)
    return _detail(request.user, transfer)


@router.post("/transfers/{int:transfer_id}/cancel", response=TransferDetailOut)
def cancel_transfer(request, transfer_id: Id, payload: TransferCancelIn | None = None):
    transfer = selectors.get_transfer_for(request.user, transfer_id)
    services.cancel_transfer(transfer, actor=request.user, reason=payload.reason if payload else "")
    return _detail(request.user, transfer)


@router.post("/transfers/{int:transfer_id}/ship", response=TransferDetailOut)
def ship_transfer(request, transfer_id: Id, payload: TransferShipIn):
    transfer = selectors.get_transfer_for(request.user, transfer_id)
    services.ship_transfer(
        transfer,
        actor=request.user,
        delivery=payload.delivery,
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
        serials=payload.serials,
    )
    return _detail(request.user, transfer)


@router.post("/transfers/{int:transfer_id}/receive", response=TransferDetailOut)
def receive_transfer(request, transfer_id: Id, payload: TransferReceiveIn):
    transfer = selectors.get_transfer_for(request.user, transfer_id)
    services.receive_transfer(transfer, actor=request.user, quantities=payload.quantities, missing=payload.missing)
    return _detail(request.user, transfer)
