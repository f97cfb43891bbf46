"""HTTP API of customer charges, under /api/v1/billing/: bills (draft, issue, write off), their
payments and invoice requests, receivables with ageing. A customer user sees his own company's
issued bills, pays nothing here (he pays online from the follow link) and may ask for an invoice."""

from datetime import date, datetime
from decimal import Decimal

from ninja import Router, Schema
from ninja.pagination import paginate

from fieldservice.billing import selectors
from fieldservice.billing.choices import BillStatus
from fieldservice.billing.models import Bill, InvoiceRequest, Payment
from fieldservice.billing.permissions import is_customer, may_view_billing
from fieldservice.billing.services import charges
from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import require
from fieldservice.workorders.selectors import get_work_order_for

router = Router(tags=["billing"])


class BillLineOut(Schema):
    id: int
    kind: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount: Decimal
    amount: Decimal
    tax_rate: Decimal


class PaymentOut(Schema):
    id: int
    bill: int
    amount: Decimal
    method: str
    reference: str
    paid_at: datetime
    online: bool

    @staticmethod
    def resolve_bill(obj) -> int:
        return obj.bill_id

    @staticmethod
    def resolve_online(obj) -> bool:
        return obj.online_payment_id is not None


class InvoiceRequestOut(Schema):
    id: int
    bill: int
    title: str
    tax_number: str
    address_phone: str
    bank_account: str
    email: str
    status: str
    invoice_number: str
    reject_reason: str
    requested_at: datetime
    handled_at: datetime | None

    @staticmethod
    def resolve_bill(obj) -> int:
        return obj.bill_id


class BillOut(Schema):
    id: int
    number: str
    work_order: int
    work_order_number: str | None
    customer: int
    customer_name: str
    status: str
    currency: str
    tax: Decimal
    total: Decimal
    paid: Decimal
    open_amount: Decimal
    issued_at: datetime | None
    due_on: date | None
    paid_at: datetime | None
    written_off_reason: str

    @staticmethod
    def resolve_work_order(obj) -> int:
        return obj.work_order_id

    @staticmethod
    def resolve_work_order_number(obj) -> str | None:
        return obj.work_order.number

    @staticmethod
    def resolve_customer(obj) -> int:
        return obj.customer_id

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name


class BillDetailOut(BillOut):
    lines: list[BillLineOut]
    payments: list[PaymentOut]
    invoice_requests: list[InvoiceRequestOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())

    @staticmethod
    def resolve_payments(obj) -> list:
        return list(obj.payments.all())

    @staticmethod
    def resolve_invoice_requests(obj) -> list:
        return list(obj.invoice_requests.all())


class ReceivableOut(Schema):
    customer: int
    customer_name: str
    currency: str
    bills: int
    open_total: Decimal
    not_due: Decimal
    days_1_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    over_90: Decimal


class BillIn(StrictSchema):
    work_order: Id


class IssueIn(StrictSchema):
    due_on: date | None = None


class WriteOffIn(StrictSchema):
    __columns__ = {"reason": (Bill, "written_off_reason")}
    reason: str


class PaymentIn(StrictSchema):
    __model__ = Payment
    amount: Decimal | str
    method: str
    reference: str = ""
    paid_at: datetime | None = None


class InvoiceRequestIn(StrictSchema):
    __model__ = InvoiceRequest
    title: str
    tax_number: str
    address_phone: str = ""
    bank_account: str = ""
    email: str = ""


class InvoiceIssueIn(StrictSchema):
    __model__ = InvoiceRequest
    invoice_number: str


class InvoiceRejectIn(StrictSchema):
    __columns__ = {"reason": (InvoiceRequest, "reject_reason")}
    reason: str


def _require_viewer(user) -> None:
    require(may_view_billing(user) or is_customer(user))


@router.get("/bills", response=list[BillOut])
@paginate(PageNumberPagination, page_size=50)
def list_bills(request, status: BillStatus | None = None, customer: Id | None = None):
    _require_viewer(request.user)
    bills = selectors.bills_for(request.user)
    if status:
        bills = bills.filter(status=status)
    if customer:
        bills = bills.filter(customer_id=customer)
    return bills.order_by("-created_at", "-pk")


@router.post("/bills", response={201: BillDetailOut})
@idempotent
def create_bill(request, payload: BillIn):
    """Draw up the order's bill as a draft from its chargeable fee lines (again, while a draft)."""
    order = get_work_order_for(request.user, payload.work_order)
    bill = charges.draft_bill(order, actor=request.user)
    return 201, bill


@router.get("/bills/{int:bill_id}", response=BillDetailOut)
def get_bill(request, bill_id: Id):
    _require_viewer(request.user)
    return selectors.get_bill_for(request.user, bill_id)


@router.post("/bills/{int:bill_id}/issue", response=BillDetailOut)
def issue_bill(request, bill_id: Id, payload: IssueIn):
    bill = selectors.get_bill_for(request.user, bill_id)
    charges.issue_bill(bill, actor=request.user, due_on=payload.due_on)
    return selectors.get_bill_for(request.user, bill_id)


@router.post("/bills/{int:bill_id}/write-off", response=BillDetailOut)
def write_off_bill(request, bill_id: Id, payload: WriteOffIn):
    bill = selectors.get_bill_for(request.user, bill_id)
    charges.write_off_bill(bill, actor=request.user, reason=payload.reason)
    return selectors.get_bill_for(request.user, bill_id)


@router.post("/bills/{int:bill_id}/payments", response={201: PaymentOut})
@idempotent
def create_payment(request, bill_id: Id, payload: PaymentIn):
    bill = selectors.get_bill_for(request.user, bill_id)
    payment = charges.record_payment(
        bill,
        actor=request.user,
        amount=payload.amount,
        method=payload.method,
        reference=payload.reference,
        paid_at=payload.paid_at,
    )
    return 201, payment


@router.post("/bills/{int:bill_id}/invoice-requests", response={201: InvoiceRequestOut})
@idempotent
def create_invoice_request(request, bill_id: Id, payload: InvoiceRequestIn):
    bill = selectors.get_bill_for(request.user, bill_id)
    return 201, charges.request_invoice(bill, actor=request.user, **payload.model_dump())


@router.post("/invoice-requests/{int:invoice_request_id}/issue", response=InvoiceRequestOut)
def issue_invoice(request, invoice_request_id: Id, payload: InvoiceIssueIn):
    invoice_request = selectors.get_invoice_request_for(request.user, invoice_request_id)
    return charges.issue_invoice(invoice_request, actor=request.user, invoice_number=payload.invoice_number)


@router.post("/invoice-requests/{int:invoice_request_id}/reject", response=InvoiceRequestOut)
def reject_invoice_request(request, invoice_request_id: Id, payload: InvoiceRejectIn):
    invoice_request = selectors.get_invoice_request_for(request.user, invoice_request_id)
    return charges.reject_invoice_request(invoice_request, actor=request.user, reason=payload.reason)


@router.get("/receivables", response=list[ReceivableOut])
@paginate(PageNumberPagination, page_size=50)
def list_receivables(request, customer: Id | None = None):
    """What each customer owes on issued bills, with its ageing by days past the due date."""
    _require_viewer(request.user)
    return [
        {**row, "customer": row["customer_id"], "customer_name": row["customer__name"]}
        for row in selectors.receivables_for(request.user, customer_id=customer)
    ]
