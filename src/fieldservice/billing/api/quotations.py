"""HTTP API of quotations (under /api/v1/billing/).

The status is read-only; it moves by verbs: POST .../send, .../approve, .../decline, .../void; a
change of the lines is POST .../revise (a new version). Customers see their company's quotations
once sent and decide them here as on the follow link; our costs are shown only to the back office."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate

from fieldservice.billing import selectors
from fieldservice.billing.choices import DecisionChannel
from fieldservice.billing.models import Quotation, QuotationLine, QuotationVersion
from fieldservice.billing.pdf import render_quotation_pdf
from fieldservice.billing.permissions import may_see_costs
from fieldservice.billing.services import quotations as services
from fieldservice.core.api import (
    Id,
    Int32,
    PageNumberPagination,
    StrictSchema,
    column_max_length,
    idempotent,
    strict_form,
)
from fieldservice.core.errors import field_error
from fieldservice.workorders.selectors import work_orders_for

router = Router(tags=["billing"])
SignerName = Annotated[str, Form(max_length=column_max_length(Quotation, "signer_name"))]
# Optional in the form so an unknown field is named first (strict_form); the service requires it.
Version = Annotated[int | None, Form(ge=1, le=2**31 - 1)]


def _costs_shown(context) -> bool:
    request = (context or {}).get("request")
    return request is not None and may_see_costs(request.user)


class QuotationLineOut(Schema):
    id: int
    position: int
    kind: str
    description: str
    part: int | None = Field(validation_alias="part_id")
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount: Decimal
    amount: Decimal
    cost: Decimal | None = None

    @staticmethod
    def resolve_cost(obj, context) -> Decimal | None:
        return obj.cost if _costs_shown(context) else None


class QuotationVersionOut(Schema):
    number: int
    valid_until: date
    tax_rate: Decimal
    note: str
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    cost: Decimal | None = None
    profit: Decimal | None = None
    created_at: datetime
    lines: list[QuotationLineOut]

    @staticmethod
    def resolve_cost(obj, context) -> Decimal | None:
        return obj.cost if _costs_shown(context) else None

    @staticmethod
    def resolve_profit(obj, context) -> Decimal | None:
        return obj.profit if _costs_shown(context) else None

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())


class QuotationOut(Schema):
    id: int
    number: str
    work_order: int = Field(validation_alias="work_order_id")
    work_order_number: str | None
    customer: int = Field(validation_alias="customer_id")
    status: str
    version: int
    currency: str
    valid_until: date
    total: Decimal
    decided_at: datetime | None
    decided_via: str
    decided_version: int | None
    signer_name: str
    decline_reason: str
    void_reason: str
    created_at: datetime

    @staticmethod
    def resolve_work_order_number(obj) -> str | None:
        return obj.work_order.number


class QuotationDetailOut(QuotationOut):
    versions: list[QuotationVersionOut]

    @staticmethod
    def resolve_versions(obj) -> list:
        return list(obj.versions.prefetch_related("lines").order_by("number"))


class QuotationLineIn(StrictSchema):
    __model__ = QuotationLine
    kind: str = Field(..., max_length=10)
    description: str = ""
    part: Id | None = None
    quantity: Decimal | str
    unit: str = ""
    unit_price: Decimal | str | None = None
    discount: Decimal | str = "0"
    unit_cost: Decimal | str | None = None


class QuotationRevisionIn(StrictSchema):
    __model__ = QuotationVersion
    lines: list[QuotationLineIn] = Field(..., max_length=services.MAX_LINES)
    valid_until: date
    tax_rate: Decimal | str
    note: str = ""


class QuotationIn(QuotationRevisionIn):
    work_order: Id


class DecisionIn(StrictSchema):
    __model__ = Quotation
    version: Int32
    signer_name: str = ""


class DeclineIn(StrictSchema):
    __columns__ = {"reason": (Quotation, "decline_reason")}
    version: Int32
    reason: str


class VoidIn(StrictSchema):
    __columns__ = {"reason": (Quotation, "void_reason")}
    reason: str


def _line_specs(lines: list[QuotationLineIn]) -> list[dict]:
    specs = []
    for line in lines:
        spec = line.dict()
        if spec["unit_cost"] is None:
            del spec["unit_cost"]
        specs.append(spec)
    return specs


def _detail(request, quotation_id: int) -> Quotation:
    return selectors.get_quotation_for(request.user, quotation_id)


@router.get("/quotations", response=list[QuotationOut])
@paginate(PageNumberPagination, page_size=50)
def list_quotations(request, status: str = "", work_order: Id | None = None, q: str = ""):
    """The quotations the user may see, newest first (a customer: his company's, once sent)."""
    quotations = selectors.search_quotations(selectors.quotations_for(request.user), q[:100])
    if status:
        quotations = quotations.filter(status=status)
    if work_order is not None:
        quotations = quotations.filter(work_order_id=work_order)
    return quotations.order_by("-created_at", "-pk")


@router.post("/quotations", response={201: QuotationDetailOut})
@idempotent
def create_quotation(request, payload: QuotationIn):
    order = work_orders_for(request.user).filter(pk=payload.work_order).first()
    if order is None:
        raise field_error(
            "work_order", _("No work order with id %(id)s.") % {"id": payload.work_order}, "does_not_exist"
        )
    quotation = services.create_quotation(
        order,
        actor=request.user,
        lines=_line_specs(payload.lines),
        valid_until=payload.valid_until,
        tax_rate=payload.tax_rate,
        note=payload.note,
    )
    return 201, quotation


@router.get("/quotations/{int:quotation_id}", response=QuotationDetailOut)
def get_quotation(request, quotation_id: Id):
    return _detail(request, quotation_id)


@router.post("/quotations/{int:quotation_id}/revise", response=QuotationDetailOut)
def revise_quotation(request, quotation_id: Id, payload: QuotationRevisionIn):
    quotation = _detail(request, quotation_id)
    services.revise_quotation(
        quotation,
        actor=request.user,
        lines=_line_specs(payload.lines),
        valid_until=payload.valid_until,
        tax_rate=payload.tax_rate,
        note=payload.note,
    )
    return _detail(request, quotation_id)


@router.post("/quotations/{int:quotation_id}/send", response=QuotationDetailOut)
def send_quotation(request, quotation_id: Id):
    services.send_quotation(_detail(request, quotation_id), actor=request.user)
    return _detail(request, quotation_id)


@router.post("/quotations/{int:quotation_id}/approve", response=QuotationDetailOut)
def approve_quotation(request, quotation_id: Id, payload: DecisionIn):
    """The customer's approval of `version` (the current one), by a customer's user or recorded
    by the office; its lines become the order's fee lines."""
    services.approve_quotation(
        _detail(request, quotation_id),
        version=payload.version,
        actor=request.user,
        channel=DecisionChannel.API,
        signer_name=payload.signer_name,
    )
    return _detail(request, quotation_id)


@router.post("/quotations/{int:quotation_id}/sign", response=QuotationDetailOut)
@strict_form
def sign_quotation(
    request, quotation_id: Id, signature: File[UploadedFile], version: Version = None, signer_name: SignerName = ""
):
    """The customer signs on the engineer's phone to approve `version` (multipart: the signature
    image, PNG or JPEG, and the signer's name); only an engineer who accepted the order."""
    services.approve_quotation(
        _detail(request, quotation_id),
        version=version,
        actor=request.user,
        channel=DecisionChannel.PHONE,
        signer_name=signer_name,
        signature=signature,
    )
    return _detail(request, quotation_id)


@router.post("/quotations/{int:quotation_id}/decline", response=QuotationDetailOut)
def decline_quotation(request, quotation_id: Id, payload: DeclineIn):
    services.decline_quotation(
        _detail(request, quotation_id),
        version=payload.version,
        reason=payload.reason,
        actor=request.user,
        channel=DecisionChannel.API,
    )
    return _detail(request, quotation_id)


@router.post("/quotations/{int:quotation_id}/void", response=QuotationDetailOut)
def void_quotation(request, quotation_id: Id, payload: VoidIn):
    services.void_quotation(_detail(request, quotation_id), actor=request.user, reason=payload.reason)
    return _detail(request, quotation_id)


@router.get("/quotations/{int:quotation_id}/pdf")
def quotation_pdf(request, quotation_id: Id, version: Id | None = None, lang: str = ""):
    """The PDF of a version (the current one by default) in Chinese (lang=zh-hans) or English (lang=en)."""
    quotation = _detail(request, quotation_id)
    found = selectors.version_of(quotation, version)
    response = HttpResponse(render_quotation_pdf(found, language=lang or None), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="quotation-{quotation.number}-v{found.number}.pdf"'
    return response
