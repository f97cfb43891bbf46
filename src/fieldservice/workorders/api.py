"""HTTP API for service requests and work orders (mounted under /api/v1/).

Status is never written directly: every move is a POST to a verb endpoint, which calls the
service that checks who may act and whether the move is allowed from the current state.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import create_model

from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.selectors import equipment_for
from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, column_max_length, idempotent, strict_form
from fieldservice.core.errors import field_error, require
from fieldservice.customers.selectors import contacts_for, customers_for, sites_for
from fieldservice.inventory.selectors import parts_for
from fieldservice.workorders import hooks, selectors
from fieldservice.workorders.choices import DESK_CHANNELS, AttachmentKind, Channel, Priority, ServiceType
from fieldservice.workorders.models import Attachment, ServiceRequest, WorkOrder
from fieldservice.workorders.permissions import may_manage_orders, may_work_on
from fieldservice.workorders.services import intake, lifecycle, needed_parts

router = Router(tags=["work-orders"])


# Schemas. Input schemas forbid unknown fields, so a client sending `status` learns (422) that
# status changes go through the verb endpoints instead of having it silently ignored.


class FaultCategoryOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    parent: int | None = Field(validation_alias="parent_id")
    skill: int | None = Field(validation_alias="skill_id")


class AttachmentOut(Schema):
    id: int
    kind: str
    content_type: str
    size: int
    uploaded_by: int | None = Field(validation_alias="uploaded_by_id")
    created_at: datetime


class RequestOut(Schema):
    id: int
    number: str | None
    channel: str
    status: str
    customer: int | None = Field(validation_alias="customer_id")
    customer_name: str | None
    contact: int | None = Field(validation_alias="contact_id")
    equipment: int | None = Field(validation_alias="equipment_id")
    equipment_serial: str | None
    service_type: str
    priority: str
    urgency: str
    fault_category: int | None = Field(validation_alias="fault_category_id")
    description: str
    reporter_name: str
    reporter_phone: str
    reporter_email: str
    resolution_note: str
    created_at: datetime
    confirmed_at: datetime | None

    @staticmethod
    def resolve_customer_name(obj) -> str | None:
        return obj.customer.name if obj.customer_id else None

    @staticmethod
    def resolve_equipment_serial(obj) -> str | None:
        return obj.equipment.serial_number if obj.equipment_id else None


class RequestDetailOut(RequestOut):
    work_orders: list[int]
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_work_orders(obj) -> list[int]:
        return list(obj.work_orders.order_by("pk").values_list("pk", flat=True))

    @staticmethod
    def resolve_attachments(obj):
        return list(obj.attachments.all())


class RequestIn(StrictSchema):
    __model__ = ServiceRequest
    # How the request reached us is decided by the door it came in by: through the API it is "api".
    # Only our own desk may say otherwise, recording a call or an e-mail it types in for a customer.
    channel: str | None = None
    customer: Id
    contact: Id | None = None
    equipment: Id | None = None
    service_type: str = ServiceType.REPAIR
    priority: str = Priority.NORMAL
    urgency: str = ""
    fault_category: Id | None = None
    description: str
    reporter_name: str = ""
    reporter_phone: str = ""
    reporter_email: str = ""


class ConfirmIn(StrictSchema):
    contact: Id | None = None
    save_reporter_as_contact: bool = False


class ResolveIn(StrictSchema):
    __columns__ = {"resolution": (ServiceRequest, "resolution_note")}
    resolution: str


class WorkOrderReasonIn(StrictSchema):
    reason: str


class NoteIn(StrictSchema):
    note: str = ""


class HoldIn(StrictSchema):
    __model__ = WorkOrder
    hold_reason: str
    note: str = ""


class WorkOrderIn(StrictSchema):
    __model__ = WorkOrder
    site: Id | None = None
    equipment: Id | None = None
    service_type: str | None = None
    priority: str | None = None
    description: str | None = None


class NeededPartIn(StrictSchema):
    part: Id
    # A string is accepted too so the service, not the schema, reports a bad quantity on its line.
    quantity: Decimal | str


class NeededPartsIn(StrictSchema):
    parts: list[NeededPartIn]


class NeededPartOut(Schema):
    part_id: int
    part_number: str
    name: str
    quantity: Decimal
    source: str

    @staticmethod
    def resolve_part_number(obj) -> str:
        return obj.part.part_number

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.part.name


class WorkOrderOut(Schema):
    id: int
    number: str | None
    request: int = Field(validation_alias="request_id")
    request_number: str | None
    customer: int = Field(validation_alias="customer_id")
    customer_name: str
    site: int | None = Field(validation_alias="site_id")
    site_name: str | None
    city: str | None
    equipment: int | None = Field(validation_alias="equipment_id")
    equipment_serial: str | None
    service_type: str
    priority: str
    fault_category: int | None = Field(validation_alias="fault_category_id")
    description: str
    status: str
    hold_reason: str
    planned_for: date | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_request_number(obj) -> str | None:
        return obj.request.number

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name

    @staticmethod
    def resolve_site_name(obj) -> str | None:
        return obj.site.name if obj.site_id else None

    @staticmethod
    def resolve_city(obj) -> str | None:
        return obj.site.city if obj.site_id else None

    @staticmethod
    def resolve_equipment_serial(obj) -> str | None:
        return obj.equipment.serial_number if obj.equipment_id else None


class _WorkOrderDetail(WorkOrderOut):
    status_before_hold: str
    resolution_type: str
    fault_cause: str
    actions_taken: str
    labour_hours: Decimal | None
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    allowed_transitions: list[str]
    needed_parts: list[NeededPartOut]

    @staticmethod
    def resolve_allowed_transitions(obj) -> list[str]:
        return [str(verb) for verb in lifecycle.allowed_transitions(obj)]

    @staticmethod
    def resolve_needed_parts(obj):
        return list(obj.needed_parts.select_related("part"))

    @staticmethod
    def resolve_attachments(obj):
        return list(obj.attachments.all())


def _detail_schema() -> type[Schema]:
    """An order's detail: its own fields, then the fields the apps above workorders add
    (`workorders.hooks.on_order_detail`: dispatch's assignments), then its attachments."""
    added = hooks.order_detail_fields()
    return create_model(
        "WorkOrderDetailOut",
        __base__=_WorkOrderDetail,
        __module__=__name__,
        __validators__={f"resolve_{field.name}": staticmethod(field.resolve) for field in added},
        **{field.name: (field.annotation, ...) for field in added},
        attachments=(list[AttachmentOut], ...),
    )


WorkOrderDetailOut = _detail_schema()


class LogEntryOut(Schema):
    id: int
    action: str
    from_status: str
    to_status: str
    actor: int | None = Field(validation_alias="actor_id")
    actor_name: str | None
    note: str
    latitude: Decimal | None
    longitude: Decimal | None
    payload: dict
    at: datetime

    @staticmethod
    def resolve_actor_name(obj) -> str | None:
        return str(obj.actor) if obj.actor_id else None


# Foreign keys arrive as ids. An id the user cannot see is reported on its field like any other
# bad value (422), so a client cannot tell "missing" from "not yours".


def _lookup(queryset, pk, field: str):
    if pk is None:
        return None
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise field_error(
            field, _("No %(field)s with id %(id)s.") % {"field": field.replace("_", " "), "id": pk}, "does_not_exist"
        )
    return obj


def _channel(user, channel: str | None) -> str:
    if channel in (None, Channel.API):
        return Channel.API
    if user.is_own_staff and channel in DESK_CHANNELS:
        return channel
    message = (
        _("Choose one of: %(channels)s.") % {"channels": ", ".join([Channel.API, *DESK_CHANNELS])}
        if user.is_own_staff
        else _("Requests filed through the API are marked API; the channel is not yours to choose.")
    )
    raise field_error("channel", message, "invalid_choice")


# Service requests


@router.get("/requests", response=list[RequestOut])
@paginate(PageNumberPagination, page_size=50)
def list_requests(request, q: str = "", status: str = "", channel: str = "", customer: Id | None = None):
    require(can(request.user, Capability.VIEW_WORK_ORDERS))
    requests = selectors.requests_for(request.user)
    if status:
        requests = requests.filter(status=status)
    if channel:
        requests = requests.filter(channel=channel)
    if customer is not None:
        requests = requests.filter(customer_id=customer)
    q = q.strip()
    if q:
        requests = requests.filter(
            Q(number__icontains=q)
            | Q(description__icontains=q)
            | Q(reporter_name__icontains=q)
            | Q(reporter_phone__icontains=q)
            | Q(customer__name__icontains=q)
        )
    return requests


@router.post("/requests", response={201: RequestDetailOut})
@idempotent
def file_request(request, payload: RequestIn):
    # Checked before the ids are looked up, so a role that may not file gets 403, not 422.
    require(can(request.user, Capability.FILE_REQUESTS))
    user = request.user
    data = payload.model_dump()
    data["channel"] = _channel(user, data["channel"])
    data["customer"] = _lookup(customers_for(user), data["customer"], "customer")
    data["contact"] = _lookup(contacts_for(user), data["contact"], "contact")
    data["equipment"] = _lookup(equipment_for(user), data["equipment"], "equipment")
    data["fault_category"] = _lookup(selectors.fault_categories(), data["fault_category"], "fault_category")
    return 201, intake.file_request(actor=user, **data)


@router.get("/requests/{int:request_id}", response=RequestDetailOut)
def get_request(request, request_id: Id):
    return selectors.get_request_for(request.user, request_id)


@router.post("/requests/{int:request_id}/confirm", response=RequestDetailOut)
def confirm_request(request, request_id: Id, payload: ConfirmIn | None = None):
    service_request = selectors.get_request_for(request.user, request_id)
    require(may_manage_orders(request.user))
    payload = payload or ConfirmIn()
    contact = _lookup(contacts_for(request.user), payload.contact, "contact")
    intake.confirm_request(
        service_request,
        actor=request.user,
        contact=contact,
        save_reporter_as_contact=payload.save_reporter_as_contact,
    )
    return selectors.get_request_for(request.user, request_id)


@router.post("/requests/{int:request_id}/resolve", response=RequestDetailOut)
def resolve_request(request, request_id: Id, payload: ResolveIn):
    service_request = selectors.get_request_for(request.user, request_id)
    intake.resolve_without_visit(service_request, actor=request.user, resolution=payload.resolution)
    return selectors.get_request_for(request.user, request_id)


@router.post("/requests/{int:request_id}/discard", response=RequestDetailOut)
def discard_request(request, request_id: Id, payload: WorkOrderReasonIn):
    service_request = selectors.get_request_for(request.user, request_id)
    intake.discard_request(service_request, actor=request.user, reason=payload.reason)
    return selectors.get_request_for(request.user, request_id)


@router.post("/requests/{int:request_id}/work-orders", response={201: WorkOrderDetailOut})
@idempotent
def create_work_order(request, request_id: Id, payload: WorkOrderIn | None = None):
    service_request = selectors.get_request_for(request.user, request_id)
    require(may_manage_orders(request.user))
    data = (payload or WorkOrderIn()).model_dump()
    data["site"] = _lookup(sites_for(request.user), data["site"], "site")
    data["equipment"] = _lookup(equipment_for(request.user), data["equipment"], "equipment")
    order = intake.create_work_order(service_request, actor=request.user, **data)
    return 201, selectors.get_work_order_for(request.user, order.pk)


# The part naming what an upload is (photo or document), bounded like its column.
KindField = Annotated[str, Form(max_length=column_max_length(Attachment, "kind"))]
UPLOAD_FIELDS = {"photos": "file", "signature": "file"}


def _attach(request, target: ServiceRequest | WorkOrder, file: UploadedFile, kind: str):
    # Signatures are taken on site by the field app, not uploaded here.
    if kind not in (AttachmentKind.PHOTO, AttachmentKind.DOCUMENT):
        raise field_error("kind", _("Choose photo or document."), "invalid_choice")
    try:
        return 201, intake.attach_file(target, actor=request.user, file=file, kind=kind)
    except ValidationError as error:
        # The service names the upload after its own forms ("photos"); here the part is "file".
        if not hasattr(error, "error_dict"):
            raise
        renamed = {UPLOAD_FIELDS.get(field, field): errors for field, errors in error.error_dict.items()}
        raise ValidationError(renamed) from None


@router.post("/requests/{int:request_id}/attachments", response={201: AttachmentOut})
@strict_form
@idempotent
def attach_to_request(request, request_id: Id, file: File[UploadedFile], kind: KindField = AttachmentKind.PHOTO):
    service_request = selectors.get_request_for(request.user, request_id)
    require(can(request.user, Capability.FILE_REQUESTS) or may_manage_orders(request.user))
    return _attach(request, service_request, file, kind)


# Work orders


@router.get("/work-orders", response=list[WorkOrderOut])
@paginate(PageNumberPagination, page_size=50)
def list_work_orders(
    request,
    q: str = "",
    status: str = "",
    priority: str = "",
    customer: Id | None = None,
    engineer: Id | None = None,
):
    require(can(request.user, Capability.VIEW_WORK_ORDERS))
    orders = selectors.work_orders_for(request.user).select_related("fault_category")
    if status:
        orders = orders.filter(status=status)
    if priority:
        orders = orders.filter(priority=priority)
    if customer is not None:
        orders = orders.filter(customer_id=customer)
    if engineer is not None:
        orders = selectors.orders_of_engineer(orders, engineer)
    q = q.strip()
    if q:
        orders = orders.filter(
            Q(number__icontains=q)
            | Q(description__icontains=q)
            | Q(customer__name__icontains=q)
            | Q(equipment__serial_number__icontains=q)
        )
    return orders


@router.get("/work-orders/{int:order_id}", response=WorkOrderDetailOut)
def get_work_order(request, order_id: Id):
    return selectors.get_work_order_for(request.user, order_id)


@router.put("/work-orders/{int:order_id}/needed-parts", response=WorkOrderDetailOut)
def set_needed_parts(request, order_id: Id, payload: NeededPartsIn):
    """Set the parts the order probably needs (the whole list; an empty list clears it)."""
    order = selectors.get_work_order_for(request.user, order_id)
    require(may_manage_orders(request.user))
    visible_parts = parts_for(request.user).filter(pk__in=[line.part for line in payload.parts])
    found = {part.pk: part for part in visible_parts}
    parts = []
    for index, line in enumerate(payload.parts):
        if line.part not in found:
            raise field_error(
                f"parts[{index}].part", _("No part with id %(id)s.") % {"id": line.part}, "does_not_exist"
            )
        parts.append((found[line.part], line.quantity))
    needed_parts.set_needed_parts(order, actor=request.user, parts=parts)
    return order


@router.get("/work-orders/{int:order_id}/log", response=list[LogEntryOut])
def get_service_log(request, order_id: Id):
    order = selectors.get_work_order_for(request.user, order_id)
    return list(selectors.service_log(order))


@router.post("/work-orders/{int:order_id}/hold", response=WorkOrderDetailOut)
def hold_work_order(request, order_id: Id, payload: HoldIn):
    order = selectors.get_work_order_for(request.user, order_id)
    lifecycle.put_on_hold(order, actor=request.user, hold_reason=payload.hold_reason, note=payload.note)
    return selectors.get_work_order_for(request.user, order_id)


@router.post("/work-orders/{int:order_id}/resume", response=WorkOrderDetailOut)
def resume_work_order(request, order_id: Id, payload: NoteIn | None = None):
    order = selectors.get_work_order_for(request.user, order_id)
    lifecycle.resume_work_order(order, actor=request.user, note=(payload or NoteIn()).note)
    return selectors.get_work_order_for(request.user, order_id)


@router.post("/work-orders/{int:order_id}/cancel", response=WorkOrderDetailOut)
def cancel_work_order(request, order_id: Id, payload: WorkOrderReasonIn):
    order = selectors.get_work_order_for(request.user, order_id)
    lifecycle.cancel_work_order(order, actor=request.user, reason=payload.reason)
    return selectors.get_work_order_for(request.user, order_id)


@router.post("/work-orders/{int:order_id}/close", response=WorkOrderDetailOut)
def close_work_order(request, order_id: Id, payload: NoteIn | None = None):
    order = selectors.get_work_order_for(request.user, order_id)
    lifecycle.close_work_order(order, actor=request.user, note=(payload or NoteIn()).note)
    return selectors.get_work_order_for(request.user, order_id)


@router.post("/work-orders/{int:order_id}/attachments", response={201: AttachmentOut})
@strict_form
@idempotent
def attach_to_work_order(request, order_id: Id, file: File[UploadedFile], kind: KindField = AttachmentKind.PHOTO):
    order = selectors.get_work_order_for(request.user, order_id)
    # Desk staff, or an engineer on the order; customers add photos to their request instead.
    require(may_work_on(request.user, order))
    return _attach(request, order, file, kind)


# Reference data


@router.get("/fault-categories", response=list[FaultCategoryOut])
def list_fault_categories(request):
    return list(selectors.fault_categories())
