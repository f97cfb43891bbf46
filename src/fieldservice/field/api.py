"""HTTP API for the engineer's app (under /api/v1/): the visit's steps as POST verbs on a work order.

403: not allowed (not an engineer on the order); 404: not visible; 409: not possible in the order's
state; 422: field errors. Offers are answered through the dispatch endpoints.
"""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile

from fieldservice.core.api import Id, StrictSchema, column_max_length, idempotent, strict_form
from fieldservice.core.errors import DomainError, field_error
from fieldservice.field import selectors, services
from fieldservice.field.api_steps import router as steps_router
from fieldservice.field.models import PartUsage, Signature
from fieldservice.field.permissions import may_download_report
from fieldservice.field.report import render_service_report
from fieldservice.inventory.selectors import parts_for, warehouses_for
from fieldservice.workorders.api import AttachmentOut
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.selectors import get_work_order_for

router = Router(tags=["field"])
router.add_router("", steps_router)
SignerName = Annotated[str, Form(max_length=column_max_length(Signature, "signer_name"))]


class LocationIn(StrictSchema):
    latitude: Decimal | None = None
    longitude: Decimal | None = None


class CheckInIn(StrictSchema):
    # Null coordinates: the phone could not (or was not allowed to) give a location.
    latitude: Decimal | None
    longitude: Decimal | None
    accuracy: Decimal | None = None
    location_error: str = Field("", max_length=40)


class WorkIn(StrictSchema):
    __model__ = WorkOrder
    resolution_type: str
    fault_cause: str
    actions_taken: str
    # A string too, so the service (not the schema) reports a bad number on its field.
    labour_hours: Decimal | str


class PartUsageIn(StrictSchema):
    __model__ = PartUsage
    part: Id | None = None
    quantity: Decimal | str
    replaces: Id | None = None
    new_serial: str = ""
    # The unit used (a serial-tracked part), the lot (a lot-tracked one), and where it comes from
    # when not the engineer's own van (a warehouse he may operate).
    serial: str = Field("", max_length=64)
    lot: str = Field("", max_length=64)
    warehouse: Id | None = None


class VisitStepsOut(Schema):
    id: int
    number: str
    status: str
    resolution_type: str
    fault_cause: str
    actions_taken: str
    labour_hours: Decimal | None
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    completed_at: datetime | None


class CheckInOut(VisitStepsOut):
    distance_km: float | None
    location_missing: bool


class PartUsageOut(Schema):
    id: int
    part: int = Field(validation_alias="part_id")
    part_number: str
    part_name: str
    quantity: Decimal
    replaces: int | None = Field(validation_alias="replaces_id")
    is_replacement: bool
    replaced_part_number: str
    replaced_serial: str
    new_serial: str
    recorded_by: int = Field(validation_alias="recorded_by_id")
    recorded_at: datetime

    @staticmethod
    def resolve_part_number(obj) -> str:
        return obj.part.part_number

    @staticmethod
    def resolve_part_name(obj) -> str:
        return obj.part.name


class SignatureOut(Schema):
    id: int
    signer_name: str
    attachment: AttachmentOut
    captured_at: datetime


def _order(request, work_order_id: Id):
    return get_work_order_for(request.user, work_order_id)


def _lookup(queryset, pk, field: str):
    """An id in the body that the user cannot use is a field error (422), like any bad value."""
    if pk is None:
        return None
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        message = _("No %(field)s with id %(id)s.") % {"field": field, "id": pk}
        raise field_error(field, message, "does_not_exist")
    return obj


@router.post("/work-orders/{int:work_order_id}/start-travel", response=VisitStepsOut)
def start_travel(request, work_order_id: Id, payload: LocationIn | None = None):
    order = _order(request, work_order_id)
    location = payload.dict() if payload is not None else {}
    return services.start_travel(order, actor=request.user, **location)


@router.post("/work-orders/{int:work_order_id}/check-in", response=CheckInOut)
def check_in(request, work_order_id: Id, payload: CheckInIn):
    order = _order(request, work_order_id)
    order = services.check_in(order, actor=request.user, **payload.dict())
    event = selectors.last_check_in(order)
    order.distance_km = event.payload.get("distance_km") if event else None
    order.location_missing = bool(event and event.payload.get("location_missing"))
    return order


@router.post("/work-orders/{int:work_order_id}/work", response=VisitStepsOut)
def record_work(request, work_order_id: Id, payload: WorkIn):
    order = _order(request, work_order_id)
    return services.record_work(order, actor=request.user, **payload.dict())


@router.get("/work-orders/{int:work_order_id}/parts", response=list[PartUsageOut])
def list_parts(request, work_order_id: Id):
    order = _order(request, work_order_id)
    return list(selectors.part_usages_of(order))


@router.post("/work-orders/{int:work_order_id}/parts", response={201: PartUsageOut})
@idempotent
def use_part(request, work_order_id: Id, payload: PartUsageIn):
    order = _order(request, work_order_id)
    part = _lookup(parts_for(request.user), payload.part, "part")
    replaces = _lookup(selectors.fitted_parts_for_order(order), payload.replaces, "replaces")
    warehouse = _lookup(warehouses_for(request.user), payload.warehouse, "warehouse")
    usage = services.use_part(
        order,
        actor=request.user,
        part=part,
        quantity=payload.quantity,
        replaces=replaces,
        new_serial=payload.new_serial,
        serial=payload.serial,
        lot=payload.lot,
        warehouse=warehouse,
    )
    return 201, usage


@router.post("/work-orders/{int:work_order_id}/photos", response={201: AttachmentOut})
@strict_form
@idempotent
def add_photo(request, work_order_id: Id, file: File[UploadedFile]):
    order = _order(request, work_order_id)
    return 201, services.add_photo(order, actor=request.user, file=file)


@router.post("/work-orders/{int:work_order_id}/signature", response={201: SignatureOut})
@strict_form
@idempotent
def capture_signature(
    request,
    work_order_id: Id,
    image: File[UploadedFile],
    signer_name: SignerName = "",
):
    order = _order(request, work_order_id)
    return 201, services.capture_signature(order, actor=request.user, image_file=image, signer_name=signer_name)


@router.post("/work-orders/{int:work_order_id}/complete", response=VisitStepsOut)
def complete(request, work_order_id: Id):
    order = _order(request, work_order_id)
    return services.complete_visit(order, actor=request.user)


@router.get("/work-orders/{int:work_order_id}/report.pdf")
def report_pdf(request, work_order_id: Id):
    """The service report PDF of a completed (or closed) visit."""
    order = _order(request, work_order_id)
    if not may_download_report(request.user, order):
        raise Http404
    if order.status not in selectors.REPORT_STATUSES:
        raise DomainError("report_not_ready", _("The service report is made when the visit is completed."))
    response = HttpResponse(render_service_report(order), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="service-report-{order.number}.pdf"'
    return response
