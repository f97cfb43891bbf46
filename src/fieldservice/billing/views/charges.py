"""The back office's pages of customer charges: bills, a bill with its actions, receivables with
ageing, and the bill panel of the work order page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.billing import selectors
from fieldservice.billing.choices import STATUS_COLOURS, BillStatus, InvoiceRequestStatus
from fieldservice.billing.forms import (
    BillFilterForm,
    InvoiceIssueForm,
    InvoiceRejectForm,
    IssueForm,
    PaymentForm,
    ReceivablesFilterForm,
    WriteOffForm,
)
from fieldservice.billing.permissions import is_customer, may_manage_billing, may_view_billing
from fieldservice.billing.services import charges
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.customers.models import Customer
from fieldservice.workorders.selectors import get_work_order_for


def _money(field: str) -> str:
    """A cell showing `row.<field>` in the row's currency (a bill, or a receivables row's dict)."""
    return "{% load money %}{{ row." + field + "|money:row.currency }}"


BILLS = Listing(
    columns=[
        Column(
            gettext_lazy("Number"),
            lambda b: b.number,
            link=lambda b: reverse("billing:bill_detail", args=[b.pk]),
        ),
        Column(
            gettext_lazy("Status"),
            lambda b: b.get_status_display(),
            badge=lambda b: STATUS_COLOURS.get(b.status, ""),
        ),
        Column(gettext_lazy("Customer"), lambda b: b.customer.name),
        Column(gettext_lazy("Work order"), lambda b: b.work_order.number, default="—"),
        Column(gettext_lazy("Total"), lambda b: b.total, cell=_money("total")),
        Column(gettext_lazy("Paid"), lambda b: b.paid, cell=_money("paid")),
        Column(gettext_lazy("Open amount"), lambda b: b.open_amount, cell=_money("open_amount")),
        Column(gettext_lazy("Currency"), lambda b: b.currency, page=False),
        Column(gettext_lazy("Issued"), lambda b: b.issued_at, date="Y-m-d", default="—"),
        Column(gettext_lazy("Due date"), lambda b: b.due_on, date="Y-m-d", default="—"),
    ],
    filter_form=BillFilterForm,
    search=gettext_lazy("Bill or work order number"),
    order=("-created_at", "-pk"),
    row_id="bill",
    empty=gettext_lazy("No bills yet. A bill is drawn up from a work order's chargeable fee lines."),
    empty_filtered=gettext_lazy("No bill matches this search."),
    export_name="bills",
    export_title=gettext_lazy("Bills"),
)

RECEIVABLES = Listing(
    columns=[
        Column(
            gettext_lazy("Customer"),
            lambda r: r["customer__name"],
            link=lambda r: f"{reverse('billing:bill_list')}?customer={r['customer_id']}",
        ),
        Column(gettext_lazy("Currency"), lambda r: r["currency"]),
        Column(gettext_lazy("Bills"), lambda r: r["bills"]),
        Column(gettext_lazy("Open amount"), lambda r: r["open_total"], cell=_money("open_total")),
        Column(gettext_lazy("Not due"), lambda r: r["not_due"], cell=_money("not_due")),
        Column(gettext_lazy("1–30 days"), lambda r: r["days_1_30"], cell=_money("days_1_30")),
        Column(gettext_lazy("31–60 days"), lambda r: r["days_31_60"], cell=_money("days_31_60")),
        Column(gettext_lazy("61–90 days"), lambda r: r["days_61_90"], cell=_money("days_61_90")),
        Column(gettext_lazy("Over 90 days"), lambda r: r["over_90"], cell=_money("over_90")),
    ],
    filter_form=ReceivablesFilterForm,
    empty=gettext_lazy("Nothing is owed: no issued bill is open."),
    empty_filtered=gettext_lazy("This customer owes nothing."),
    export_name="receivables",
    export_title=gettext_lazy("Receivables"),
)


def _require_desk(user) -> None:
    require(may_view_billing(user) and not is_customer(user))


def _customers():
    return Customer.objects.filter(bills__isnull=False).distinct().order_by("name")


@login_required
def bill_list(request):
    _require_desk(request.user)
    filters = BILLS.filters(request, customers=_customers())
    chosen = filters.filters() if filters else {}
    bills = selectors.bills_for(request.user)
    if chosen.get("status"):
        bills = bills.filter(status=chosen["status"])
    if chosen.get("customer"):
        bills = bills.filter(customer=chosen["customer"])
    query = request.GET.get("q", "").strip()
    if query:
        bills = bills.filter(number__icontains=query) | bills.filter(work_order__number__icontains=query)
    return BILLS.render(request, "billing/bill_list.html", bills, filters=filters)


@login_required
def receivables(request):
    _require_desk(request.user)
    filters = RECEIVABLES.filters(request, customers=_customers())
    rows = selectors.receivables_for(request.user, **(filters.filters() if filters else {}))
    return RECEIVABLES.render(request, "billing/receivables.html", rows, filters=filters)


def _detail(request, bill, forms: dict | None = None, status: int = 200):
    forms = forms or {}
    manage = may_manage_billing(request.user)
    open_bill = bill.status in charges.OPEN_STATUSES
    context = {
        "bill": bill,
        "lines": bill.lines.all(),
        "payments": bill.payments.select_related("recorded_by"),
        "online_payments": bill.online_payments.all(),
        "invoice_requests": bill.invoice_requests.select_related("handled_by", "requested_by"),
        "may_manage": manage,
        "issue_form": forms.get("issue") or IssueForm() if manage and bill.status == BillStatus.DRAFT else None,
        "payment_form": (forms.get("payment") or PaymentForm(initial={"amount": bill.open_amount}))
        if manage and open_bill
        else None,
        "write_off_form": forms.get("write_off") or WriteOffForm() if manage and open_bill else None,
        "invoice_issue_forms": {},
        "requested": InvoiceRequestStatus.REQUESTED,
    }
    if manage:
        for invoice_request in context["invoice_requests"]:
            if invoice_request.status == InvoiceRequestStatus.REQUESTED:
                invoice_request.issue_form = forms.get(("invoice_issue", invoice_request.pk)) or InvoiceIssueForm(
                    auto_id=f"id_%s_issue_{invoice_request.pk}"
                )
                invoice_request.reject_form = forms.get(("invoice_reject", invoice_request.pk)) or InvoiceRejectForm(
                    auto_id=f"id_%s_reject_{invoice_request.pk}"
                )
    return render(request, "billing/bill_detail.html", context, status=status)


@login_required
def bill_detail(request, pk):
    _require_desk(request.user)
    return _detail(request, selectors.get_bill_for(request.user, pk))


def _act(request, bill, form, key, act, success):
    """Run a service with a valid form; errors go back on the page next to their field."""
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("billing:bill_detail", bill.pk)
        else:
            messages.success(request, success)
            return redirect("billing:bill_detail", bill.pk)
    return _detail(request, bill, {key: form}, status=400)


@login_required
@require_POST
def bill_issue(request, pk):
    _require_desk(request.user)
    bill = selectors.get_bill_for(request.user, pk)
    return _act(
        request,
        bill,
        IssueForm(request.POST),
        "issue",
        lambda data: charges.issue_bill(bill, actor=request.user, due_on=data.get("due_on")),
        _("Bill %(number)s issued.") % {"number": bill.number},
    )


@login_required
@require_POST
def bill_payment(request, pk):
    _require_desk(request.user)
    bill = selectors.get_bill_for(request.user, pk)
    return _act(
        request,
        bill,
        PaymentForm(request.POST),
        "payment",
        lambda data: charges.record_payment(
            bill,
            actor=request.user,
            amount=data["amount"],
            method=data["method"],
            reference=data.get("reference", ""),
            paid_at=data.get("paid_at"),
        ),
        _("Payment recorded."),
    )


@login_required
@require_POST
def bill_write_off(request, pk):
    _require_desk(request.user)
    bill = selectors.get_bill_for(request.user, pk)
    return _act(
        request,
        bill,
        WriteOffForm(request.POST),
        "write_off",
        lambda data: charges.write_off_bill(bill, actor=request.user, reason=data["reason"]),
        _("Bill %(number)s written off.") % {"number": bill.number},
    )


@login_required
@require_POST
def invoice_issue(request, pk):
    _require_desk(request.user)
    invoice_request = selectors.get_invoice_request_for(request.user, pk)
    return _act(
        request,
        invoice_request.bill,
        InvoiceIssueForm(request.POST, auto_id=f"id_%s_issue_{pk}"),
        ("invoice_issue", pk),
        lambda data: charges.issue_invoice(invoice_request, actor=request.user, invoice_number=data["invoice_number"]),
        _("Invoice recorded as issued."),
    )


@login_required
@require_POST
def invoice_reject(request, pk):
    _require_desk(request.user)
    invoice_request = selectors.get_invoice_request_for(request.user, pk)
    return _act(
        request,
        invoice_request.bill,
        InvoiceRejectForm(request.POST, auto_id=f"id_%s_reject_{pk}"),
        ("invoice_reject", pk),
        lambda data: charges.reject_invoice_request(invoice_request, actor=request.user, reason=data["reason"]),
        _("Invoice request rejected."),
    )


@login_required
@require_POST
def order_bill(request, order_pk):
    """Draw up (or again) the bill of a work order, from the order page's bill panel."""
    _require_desk(request.user)
    order = get_work_order_for(request.user, order_pk)
    try:
        bill = charges.draft_bill(order, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("workorders:order_detail", order.pk)
    messages.success(request, _("Bill %(number)s drawn up as a draft.") % {"number": bill.number})
    return redirect("billing:bill_detail", bill.pk)


def order_bill_panel(request, order) -> str:
    """The bill of a work order, a panel of the work order page (`core.panels`, slot
    `workorders.order`): the back office sees the bill or, with chargeable lines, a button to
    draw it up."""
    user = request.user
    if not user.is_authenticated or not may_view_billing(user) or is_customer(user):
        return ""
    bill = selectors.bill_of_order(order)
    chargeable = None
    if bill is None or bill.status == BillStatus.DRAFT:
        chargeable = charges.chargeable_lines(order).aggregate(total=Sum("amount"))["total"]
    if bill is None and not chargeable:
        return ""
    return render_to_string(
        "billing/_order_bill.html",
        {
            "order": order,
            "bill": bill,
            "chargeable": chargeable,
            "colour": STATUS_COLOURS.get(bill.status, "") if bill else "",
            "may_manage": may_manage_billing(user),
        },
        request=request,
    )
