"""Customer charges: bills (收费单), payments and invoice requests (开票申请).

A bill is drafted from the order's chargeable fee lines (not removed, paid by the customer), which
are copied into bill lines so the bill reads as it was issued; while it is a draft, drafting again
replaces its lines. draft → issued → partly paid → paid, or written off with a reason.

A payment is recorded under a row lock on the bill: two payments at once queue, and the second
sees what the first left open, so the bill is never paid above its total (the database refuses
it too: `bill_paid_at_most_total`). Online payments start here and are completed by the gateway's
signed notice (`billing.gateways`); the same notice twice records one payment.

Bills change only what the customer owes: margins are computed from fee lines, not from bills.
Every money change writes an event with its before → after.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.billing.choices import BillStatus, InvoiceRequestStatus, OnlinePaymentStatus, Payer, PaymentMethod
from fieldservice.billing.models import Bill, BillLine, FeeLine, InvoiceRequest, OnlinePayment, Payment
from fieldservice.billing.permissions import is_customer, may_manage_billing
from fieldservice.billing.services.numbers import next_number
from fieldservice.core.errors import DomainError, PermissionDenied, field_error, require
from fieldservice.core.events import record_event
from fieldservice.core.money import cents, parse_money
from fieldservice.core.validation import check_date, check_length, normalise_email
from fieldservice.workorders.models import WorkOrder

ZERO = Decimal("0")
DEFAULT_DUE_DAYS = 30
OPEN_STATUSES = (BillStatus.ISSUED, BillStatus.PARTLY_PAID)
ONLINE_METHODS = (PaymentMethod.WECHAT_PAY, PaymentMethod.ALIPAY)
# 统一社会信用代码 (18) and the older tax registration numbers (15, 17 or 20 characters).
TAX_NUMBER_LENGTHS = (15, 17, 18, 20)
TAX_NUMBER_CHARACTERS = re.compile(r"^[0-9A-Z]+$")


def _status_label(status: str) -> str:
    return str(BillStatus(status).label)


def _lock(bill: Bill) -> Bill:
    return Bill.objects.select_for_update().select_related("customer", "work_order").get(pk=bill.pk)


def chargeable_lines(order: WorkOrder):
    """The fee lines the customer pays: not removed, payer customer."""
    return FeeLine.objects.filter(work_order=order, is_void=False, payer=Payer.CUSTOMER).order_by("kind", "pk")


def is_bill_customer(actor: User | None, bill: Bill) -> bool:
    """A logged-in customer of the bill's company."""
    return bool(actor is not None and is_customer(actor) and bill.customer.organisation_id == actor.organisation_id)


def _require_payer_side(bill: Bill, actor: User | None, follow_token: str | None) -> None:
    """The back office, a customer user of the bill's company, or the holder of the order's follow
    link may act as the payer (start a payment, ask for an invoice)."""
    if actor is not None and (may_manage_billing(actor) or is_bill_customer(actor, bill)):
        return
    if follow_token and secrets.compare_digest(bill.work_order.request.follow_token, str(follow_token)):
        return
    raise PermissionDenied(_("You may not act on this bill."))


# --- bills ---------------------------------------------------------------------------------------


def draft_bill(order: WorkOrder, *, actor: User) -> Bill:
    """The order's bill as a draft, from its chargeable lines; drafting again while it is a draft
    replaces its lines (after the fee lines were corrected)."""
    require(may_manage_billing(actor))
    with transaction.atomic():
        # The order's row lock serialises two drafts of the same order.
        order = WorkOrder.objects.select_for_update().select_related("customer").get(pk=order.pk)
        bill = Bill.objects.select_for_update().filter(work_order=order).first()
        if bill is not None and bill.status != BillStatus.DRAFT:
            raise DomainError(
                "bill_not_draft",
                _("Bill %(number)s is %(status)s; only a draft can be drawn up again.")
                % {"number": bill.number, "status": _status_label(bill.status)},
            )
        lines = list(chargeable_lines(order))
        tax = tax_of(lines)
        total = sum((line.amount for line in lines), ZERO) + tax
        if not lines or total <= 0:
            raise DomainError(
                "nothing_to_charge",
                _("Work order %(number)s has nothing the customer pays for: no fee line is chargeable.")
                % {"number": order.number},
            )
        currencies = {line.currency for line in lines}
        if len(currencies) > 1:
            raise DomainError(
                "mixed_currencies",
                _("The chargeable lines are in several currencies (%(currencies)s); one bill has one currency.")
                % {"currencies": ", ".join(sorted(currencies))},
            )
        currency = currencies.pop()
        if bill is None:
            bill = _create_bill(order, actor=actor, total=total, tax=tax, currency=currency)
            record_event(
                bill,
                actor=actor,
                action="created",
                changes={"total": [None, str(total)], "status": [None, _status_label(BillStatus.DRAFT)]},
                related=order,
            )
        else:
            before = bill.total
            bill.lines.all().delete()
            bill.total = total
            bill.tax = tax
            bill.currency = currency
            bill.save(update_fields=["total", "tax", "currency", "updated_at"])
            record_event(
                bill,
                actor=actor,
                action="updated",
                changes={"total": [str(before), str(total)]},
                related=order,
                note=_("Drawn up again from the fee lines."),
            )
        BillLine.objects.bulk_create(
            BillLine(
                bill=bill,
                fee_line=line,
                kind=line.kind,
                description=line.description,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                discount=line.discount,
                amount=line.amount,
                tax_rate=line.tax_rate,
            )
            for line in lines
        )
    return bill


def tax_of(lines) -> Decimal:
    """The tax on these lines: per rate, the rate of the lines' sum, rounded once (as the
    quotation the customer approved added it up)."""
    by_rate: dict[Decimal, Decimal] = {}
    for line in lines:
        if line.tax_rate:
            by_rate[line.tax_rate] = by_rate.get(line.tax_rate, ZERO) + line.amount
    return sum((cents(amount * rate / 100) for rate, amount in by_rate.items()), ZERO)


def _create_bill(order: WorkOrder, *, actor: User, total: Decimal, tax: Decimal, currency: str) -> Bill:
    # Two bills of different orders may pick the same next number: the unique column refuses one,
    # which takes the following number.
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Bill.objects.create(
                    number=next_number(Bill, "bill"),
                    work_order=order,
                    customer=order.customer,
                    tax=tax,
                    total=total,
                    currency=currency,
                    created_by=actor,
                )
        except IntegrityError:
            if Bill.objects.filter(work_order=order).exists():
                raise
    raise DomainError("number_taken", _("No free bill number was found; try again."))


def issue_bill(bill: Bill, *, actor: User, due_on: dt.date | None = None) -> Bill:
    require(may_manage_billing(actor))
    check_date(due_on, field="due_on")
    with transaction.atomic():
        bill = _lock(bill)
        if bill.status != BillStatus.DRAFT:
            raise DomainError(
                "bill_not_draft",
                _("Bill %(number)s is %(status)s; only a draft can be issued.")
                % {"number": bill.number, "status": _status_label(bill.status)},
            )
        now = timezone.now()
        today = timezone.localdate(now)
        if due_on is None:
            due_on = today + dt.timedelta(days=DEFAULT_DUE_DAYS)
        elif due_on < today:
            raise field_error("due_on", _("The due date cannot be before today."), "in_past")
        bill.status = BillStatus.ISSUED
        bill.issued_at = now
        bill.due_on = due_on
        bill.save(update_fields=["status", "issued_at", "due_on", "updated_at"])
        record_event(
            bill,
            actor=actor,
            action="bill_issued",
            changes={
                "status": [_status_label(BillStatus.DRAFT), _status_label(BillStatus.ISSUED)],
                "due_on": [None, due_on.isoformat()],
                "open_amount": ["0", str(bill.total)],
            },
        )
    return bill


def write_off_bill(bill: Bill, *, actor: User, reason: str) -> Bill:
    require(may_manage_billing(actor))
    reason = check_length(reason, model=Bill, field="written_off_reason", name="reason")
    if not reason:
        raise field_error("reason", _("Say why the bill is written off."), "required")
    with transaction.atomic():
        bill = _lock(bill)
        if bill.status not in OPEN_STATUSES:
            raise DomainError(
                "bill_not_open",
                _("Bill %(number)s is %(status)s; only an issued bill with an open amount can be written off.")
                % {"number": bill.number, "status": _status_label(bill.status)},
            )
        before_status, before_open = bill.status, bill.open_amount
        bill.status = BillStatus.WRITTEN_OFF
        bill.written_off_reason = reason
        bill.save(update_fields=["status", "written_off_reason", "updated_at"])
        record_event(
            bill,
            actor=actor,
            action="bill_written_off",
            changes={
                "status": [_status_label(before_status), _status_label(BillStatus.WRITTEN_OFF)],
                "open_amount": [str(before_open), "0"],
            },
            note=reason,
        )
    return bill


# --- payments ------------------------------------------------------------------------------------


def _parse_method(method) -> str:
    if method not in PaymentMethod.values:
        raise field_error("method", _("Choose how the customer paid."), "invalid_choice")
    return method


def _apply_payment(
    bill: Bill,
    *,
    actor: User | None,
    amount: Decimal,
    method: str,
    reference: str,
    paid_at: dt.datetime,
    online_payment: OnlinePayment | None = None,
) -> Payment:
    """Record a payment on a bill already locked by the caller."""
    if bill.status not in OPEN_STATUSES:
        raise DomainError(
            "bill_not_open",
            _("Bill %(number)s is %(status)s; payments are recorded only on an issued bill.")
            % {"number": bill.number, "status": _status_label(bill.status)},
        )
    open_amount = bill.open_amount
    if amount > open_amount:
        raise field_error(
            "amount",
            _("The payment is above the open amount of %(open)s.") % {"open": open_amount},
            "above_open_amount",
        )
    before_paid, before_status = bill.paid, bill.status
    payment = Payment.objects.create(
        bill=bill,
        amount=amount,
        method=method,
        reference=reference,
        paid_at=paid_at,
        online_payment=online_payment,
        recorded_by=actor,
    )
    bill.paid = before_paid + amount
    if bill.paid >= bill.total:
        bill.status = BillStatus.PAID
        bill.paid_at = paid_at
    else:
        bill.status = BillStatus.PARTLY_PAID
    bill.save(update_fields=["paid", "status", "paid_at", "updated_at"])
    record_event(
        bill,
        actor=actor,
        action="payment_recorded",
        changes={
            "paid": [str(before_paid), str(bill.paid)],
            "open_amount": [str(open_amount), str(bill.open_amount)],
            "status": [_status_label(before_status), _status_label(bill.status)],
        },
        related=payment,
        note=f"{PaymentMethod(method).label} {reference}".strip(),
    )
    return payment


def record_payment(
    bill: Bill,
    *,
    actor: User,
    amount,
    method: str,
    reference: str = "",
    paid_at: dt.datetime | None = None,
) -> Payment:
    """A payment the back office records (a bank transfer, cash, or a WeChat Pay / Alipay payment
    received outside the online flow)."""
    require(may_manage_billing(actor))
    amount = parse_money(amount, "amount", required=True, allow_zero=False)
    method = _parse_method(method)
    reference = check_length(reference, model=Payment, field="reference")
    check_date(paid_at, field="paid_at")
    if paid_at is not None and timezone.is_naive(paid_at):
        paid_at = timezone.make_aware(paid_at)
    now = timezone.now()
    if paid_at is not None and paid_at > now + dt.timedelta(minutes=5):
        raise field_error("paid_at", _("A payment cannot be in the future."), "in_future")
    with transaction.atomic():
        bill = _lock(bill)
        return _apply_payment(
            bill, actor=actor, amount=amount, method=method, reference=reference, paid_at=paid_at or now
        )


def start_online_payment(
    bill: Bill,
    *,
    method: str,
    actor: User | None = None,
    follow_token: str | None = None,
    gateway: str = "sandbox",
) -> OnlinePayment:
    """An online payment of the bill's open amount, waiting for the gateway (`billing.gateways`).
    The payer is the back office, a customer user of the bill's company or the follow link's holder."""
    if method not in ONLINE_METHODS:
        raise field_error("method", _("Choose WeChat Pay or Alipay."), "invalid_choice")
    with transaction.atomic():
        bill = _lock(bill)
        _require_payer_side(bill, actor, follow_token)
        if bill.status not in OPEN_STATUSES or bill.open_amount <= 0:
            raise DomainError(
                "bill_not_open",
                _("Bill %(number)s has nothing to pay.") % {"number": bill.number},
            )
        online = OnlinePayment.objects.create(
            bill=bill,
            gateway=gateway,
            method=method,
            amount=bill.open_amount,
            token=secrets.token_urlsafe(24),
        )
        record_event(
            bill,
            actor=actor,
            action="created",
            changes={"online_payment": [None, f"{PaymentMethod(method).label} {online.amount}"]},
            related=online,
        )
    return online


def complete_online_payment(*, gateway: str, token: str, reference: str, amount, status: str) -> Payment | None:
    """Apply a gateway's verified notice. Idempotent: a notice for a payment already completed
    returns what the first one recorded. A failed payment records no payment (None)."""
    amount = parse_money(amount, "amount", required=True, allow_zero=False)
    with transaction.atomic():
        online = OnlinePayment.objects.select_for_update().filter(gateway=gateway, token=token).first()
        if online is None:
            raise field_error("token", _("No such payment."), "not_found")
        if amount != online.amount:
            raise field_error(
                "amount",
                _("The amount paid differs from the amount asked (%(asked)s).") % {"asked": online.amount},
                "amount_mismatch",
            )
        if online.status == OnlinePaymentStatus.SUCCEEDED:
            return online.payment
        if online.status != OnlinePaymentStatus.PENDING:
            raise DomainError("payment_closed", _("This payment is no longer waiting for the gateway."))
        now = timezone.now()
        online.gateway_reference = reference[:64]
        online.completed_at = now
        if status != OnlinePaymentStatus.SUCCEEDED:
            online.status = OnlinePaymentStatus.FAILED
            online.save(update_fields=["status", "gateway_reference", "completed_at"])
            record_event(
                online.bill,
                actor=None,
                action="updated",
                changes={
                    "online_payment": [str(OnlinePaymentStatus.PENDING.label), str(OnlinePaymentStatus.FAILED.label)]
                },
                related=online,
            )
            return None
        bill = _lock(online.bill)
        payment = _apply_payment(
            bill,
            actor=None,
            amount=amount,
            method=online.method,
            reference=online.gateway_reference,
            paid_at=now,
            online_payment=online,
        )
        online.status = OnlinePaymentStatus.SUCCEEDED
        online.save(update_fields=["status", "gateway_reference", "completed_at"])
    return payment


# --- invoice requests ----------------------------------------------------------------------------


def check_tax_number(value) -> str:
    """A Chinese taxpayer number: the 18-character unified social credit code (统一社会信用代码) or
    an older 15, 17 or 20 character tax registration number, of digits and capital letters."""
    text = (value or "").strip().replace(" ", "")
    if not text:
        raise field_error("tax_number", _("Enter the customer's tax number."), "required")
    if not TAX_NUMBER_CHARACTERS.match(text):
        wrong = sorted({c for c in text if not ("0" <= c <= "9" or "A" <= c <= "Z")})
        raise field_error(
            "tax_number",
            _("A tax number has only digits and capital letters; “%(chars)s” is not allowed.")
            % {"chars": "".join(wrong)[:20]},
            "invalid_characters",
        )
    if len(text) not in TAX_NUMBER_LENGTHS:
        raise field_error(
            "tax_number",
            _(
                "A tax number has 15, 17, 18 or 20 characters (the unified social credit code has 18); "
                "this one has %(n)d."
            )
            % {"n": len(text)},
            "invalid_length",
        )
    return text


def request_invoice(
    bill: Bill,
    *,
    actor: User | None,
    title: str,
    tax_number: str,
    address_phone: str = "",
    bank_account: str = "",
    email: str = "",
    follow_token: str | None = None,
) -> InvoiceRequest:
    """The customer asks for a tax invoice (开票申请) for an issued bill; one open request per bill."""
    title = check_length(title, model=InvoiceRequest, field="title")
    if not title:
        raise field_error("title", _("Enter the invoice title (the company's registered name)."), "required")
    tax_number = check_tax_number(tax_number)
    address_phone = check_length(address_phone, model=InvoiceRequest, field="address_phone")
    bank_account = check_length(bank_account, model=InvoiceRequest, field="bank_account")
    email = normalise_email(email, field="email") if (email or "").strip() else ""
    with transaction.atomic():
        bill = _lock(bill)
        _require_payer_side(bill, actor, follow_token)
        if bill.status in (BillStatus.DRAFT, BillStatus.WRITTEN_OFF):
            raise DomainError(
                "bill_not_issued",
                _("Bill %(number)s is %(status)s; an invoice is asked for an issued bill.")
                % {"number": bill.number, "status": _status_label(bill.status)},
            )
        if bill.invoice_requests.filter(status=InvoiceRequestStatus.REQUESTED).exists():
            raise DomainError("invoice_already_requested", _("An invoice for this bill is already requested."))
        request = InvoiceRequest.objects.create(
            bill=bill,
            title=title,
            tax_number=tax_number,
            address_phone=address_phone,
            bank_account=bank_account,
            email=email,
            requested_by=actor if getattr(actor, "pk", None) else None,
        )
        record_event(
            bill,
            actor=actor,
            action="invoice_requested",
            changes={"invoice": [None, f"{title} {tax_number}"]},
            related=request,
        )
    return request


def _lock_request(request: InvoiceRequest) -> InvoiceRequest:
    request = InvoiceRequest.objects.select_for_update().select_related("bill").get(pk=request.pk)
    if request.status != InvoiceRequestStatus.REQUESTED:
        raise DomainError(
            "invoice_request_handled",
            _("This invoice request is already %(status)s.") % {"status": request.get_status_display()},
        )
    return request


def issue_invoice(request: InvoiceRequest, *, actor: User, invoice_number: str) -> InvoiceRequest:
    require(may_manage_billing(actor))
    invoice_number = check_length(invoice_number, model=InvoiceRequest, field="invoice_number")
    if not invoice_number:
        raise field_error("invoice_number", _("Enter the number of the invoice issued."), "required")
    with transaction.atomic():
        request = _lock_request(request)
        request.status = InvoiceRequestStatus.ISSUED
        request.invoice_number = invoice_number
        request.handled_by = actor
        request.handled_at = timezone.now()
        request.save(update_fields=["status", "invoice_number", "handled_by", "handled_at"])
        record_event(
            request.bill,
            actor=actor,
            action="invoice_issued",
            changes={
                "invoice": [str(InvoiceRequestStatus.REQUESTED.label), str(InvoiceRequestStatus.ISSUED.label)],
                "invoice_number": [None, invoice_number],
            },
            related=request,
        )
    return request


def reject_invoice_request(request: InvoiceRequest, *, actor: User, reason: str) -> InvoiceRequest:
    require(may_manage_billing(actor))
    reason = check_length(reason, model=InvoiceRequest, field="reject_reason", name="reason")
    if not reason:
        raise field_error("reason", _("Say why the request is rejected."), "required")
    with transaction.atomic():
        request = _lock_request(request)
        request.status = InvoiceRequestStatus.REJECTED
        request.reject_reason = reason
        request.handled_by = actor
        request.handled_at = timezone.now()
        request.save(update_fields=["status", "reject_reason", "handled_by", "handled_at"])
        record_event(
            request.bill,
            actor=actor,
            action="invoice_rejected",
            changes={"invoice": [str(InvoiceRequestStatus.REQUESTED.label), str(InvoiceRequestStatus.REJECTED.label)]},
            related=request,
            note=reason,
        )
    return request
