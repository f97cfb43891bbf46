"""Fee lines of a work order: read, add (idempotent), correct, void, price from the visit.

Internal costs are in the answer only for those who may see them (the back office); an engineer
and a provider read the lines without them, a customer not at all."""

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fieldservice.billing import selectors
from fieldservice.billing.choices import FeeKind, FeeSource, Payer
from fieldservice.billing.models import FeeLine
from fieldservice.billing.permissions import may_see_costs
from fieldservice.billing.services import fees, pricing
from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import field_error
from fieldservice.inventory.selectors import parts_for
from fieldservice.workorders.models import Attachment

router = Router(tags=["billing"])


def _costs_visible(context) -> bool:
    request = (context or {}).get("request")
    return bool(request is not None and may_see_costs(request.user))


class FeeLineOut(Schema):
    id: int
    work_order: int = Field(validation_alias="work_order_id")
    kind: FeeKind
    description: str
    part: int | None = Field(validation_alias="part_id")
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount: Decimal
    amount: Decimal
    tax_rate: Decimal
    currency: str
    payer: Payer
    payer_reason: str
    source: FeeSource
    quotation: int | None = Field(validation_alias="quotation_id")
    receipt: int | None = Field(validation_alias="receipt_id")
    is_void: bool
    void_reason: str
    created_at: dt.datetime
    # Our internal cost: null for those who may not see it.
    unit_cost: Decimal | None
    cost: Decimal | None

    @staticmethod
    def resolve_unit_cost(obj, context) -> Decimal | None:
        return obj.unit_cost if _costs_visible(context) else None

    @staticmethod
    def resolve_cost(obj, context) -> Decimal | None:
        return obj.cost if _costs_visible(context) else None


class FeeLineIn(StrictSchema):
    __model__ = FeeLine
    # Plain strings: an unknown kind or payer, or a bad amount, gets the service's field error.
    kind: str
    description: str
    quantity: Decimal | str = "1"
    unit: str = ""
    unit_price: Decimal | str
    discount: Decimal | str = "0"
    unit_cost: Decimal | str | None = None
    part: Id | None = None
    payer: str = ""
    payer_reason: str = ""
    receipt: Id | None = Field(default=None, description="A photo of this order (the receipt of another cost).")


class FeeCorrectIn(StrictSchema):
    __model__ = FeeLine
    reason: str = Field(max_length=300)
    description: str | None = None
    quantity: Decimal | str | None = None
    unit: str | None = None
    unit_price: Decimal | str | None = None
    discount: Decimal | str | None = None
    unit_cost: Decimal | str | None = None
    payer: str | None = None
    payer_reason: str | None = None


class FeeVoidIn(StrictSchema):
    reason: str = Field(max_length=300)


@router.get("/work-orders/{int:order_id}/fee-lines", response=list[FeeLineOut], summary="An order's fee lines")
@paginate(PageNumberPagination, page_size=50)
def list_fee_lines(request, order_id: Id):
    order = selectors.get_fee_order_for(request.user, order_id)
    return selectors.fee_lines_of(order)


@router.post(
    "/work-orders/{int:order_id}/fee-lines",
    response={201: FeeLineOut},
    summary="Add a fee line (the back office; an engineer: another cost or a service item on his order)",
)
@idempotent
def add_fee_line(request, order_id: Id, payload: FeeLineIn):
    order = selectors.get_fee_order_for(request.user, order_id)
    data = payload.model_dump()
    part_id = data.pop("part")
    receipt_id = data.pop("receipt")
    part = None
    if part_id is not None:
        part = parts_for(request.user).filter(pk=part_id).first()
        if part is None:
            raise field_error("part", _("Unknown part."), "invalid_choice")
    receipt = None
    if receipt_id is not None:
        receipt = Attachment.objects.filter(pk=receipt_id, work_order_id=order.pk).first()
        if receipt is None:
            raise field_error("receipt", _("Choose a photo of this order."), "invalid_choice")
    line = fees.add_fee_line(order, actor=request.user, part=part, receipt=receipt, **data)
    return 201, line


@router.post("/fee-lines/{int:line_id}/correct", response=FeeLineOut, summary="Correct a fee line (with a reason)")
def correct_fee_line(request, line_id: Id, payload: FeeCorrectIn):
    line = selectors.get_fee_line_for(request.user, line_id)
    data = payload.model_dump(exclude_unset=True)
    reason = data.pop("reason")
    fields = {name: value for name, value in data.items() if value is not None}
    return fees.correct_fee_line(line, actor=request.user, reason=reason, **fields)


@router.post("/fee-lines/{int:line_id}/void", response=FeeLineOut, summary="Remove a fee line (with a reason)")
def void_fee_line(request, line_id: Id, payload: FeeVoidIn):
    line = selectors.get_fee_line_for(request.user, line_id)
    return fees.void_fee_line(line, actor=request.user, reason=payload.reason)


@router.post(
    "/work-orders/{int:order_id}/price",
    response=list[FeeLineOut],
    summary="Price the order from the visit again (corrected and removed lines stay as they are)",
)
def price_order(request, order_id: Id):
    order = selectors.get_fee_order_for(request.user, order_id)
    return pricing.price_order(order, actor=request.user)
