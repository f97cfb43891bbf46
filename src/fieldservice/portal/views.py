"""The customer's private follow page at /r/<token>/. No login: the 128-bit follow token in
the link is the key, so these pages keep it out of referrers, search engines and caches."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fieldservice.billing import gateways
from fieldservice.billing import selectors as billing_selectors
from fieldservice.billing.choices import BillStatus, DecisionChannel, InvoiceRequestStatus, PaymentMethod
from fieldservice.billing.forms import CustomerDecisionForm, InvoiceRequestForm
from fieldservice.billing.pdf import render_quotation_pdf
from fieldservice.billing.selectors import bill_of_order
from fieldservice.billing.services import quotations as quotation_services
from fieldservice.billing.services.charges import ONLINE_METHODS, request_invoice, start_online_payment
from fieldservice.core.errors import DomainError
from fieldservice.core.forms import add_service_errors
from fieldservice.feedback.forms import EvaluationForm
from fieldservice.feedback.models import Evaluation
from fieldservice.feedback.services import EVALUABLE_STATUSES, submit_evaluation
from fieldservice.field.report import render_service_report
from fieldservice.portal import progress
from fieldservice.workorders.choices import RequestStatus
from fieldservice.workorders.models import ServiceRequest, WorkOrder
from fieldservice.workorders.selectors import request_by_follow_token


def private(view):
    """The token is in the URL: no referrer to other sites, no indexing, no shared caching."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        # same-origin, not no-referrer: the token never leaves our site, and browsers still send
        # a real Origin on our own form posts (no-referrer makes it "null", which CSRF refuses).
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapper


def _unknown(request):
    return render(request, "portal/unknown.html", status=404)


def _bill_card(order: WorkOrder, invoice_form: InvoiceRequestForm | None = None) -> dict | None:
    """The order's bill as its customer sees it: only once issued; pay buttons while something is
    open; the invoice request form unless one is waiting."""
    bill = bill_of_order(order)
    if bill is None or bill.status == BillStatus.DRAFT:
        return None
    requests = list(bill.invoice_requests.all())
    waiting = any(r.status == InvoiceRequestStatus.REQUESTED for r in requests)
    may_invoice = bill.status != BillStatus.WRITTEN_OFF and not waiting
    return {
        "bill": bill,
        "methods": [(m, PaymentMethod(m).label) for m in ONLINE_METHODS] if bill.open_amount > 0 else [],
        "invoice_requests": requests,
        "invoice_form": (invoice_form or InvoiceRequestForm(auto_id=f"id_%s_invoice_{order.pk}"))
        if may_invoice
        else None,
    }


def _quotation_card(order: WorkOrder, form: CustomerDecisionForm | None = None) -> dict | None:
    """The order's latest quotation the customer has been sent: the one awaiting his decision
    (with the approve and decline buttons), else the last one decided."""
    quotation = billing_selectors.quotations_on_follow_link(order).first()
    if quotation is None:
        return None
    version = billing_selectors.version_of(quotation)
    return {
        "quotation": quotation,
        "version": version,
        "lines": list(version.lines.all()),
        "awaiting": quotation == billing_selectors.awaiting_decision(order),
        "form": form or CustomerDecisionForm(initial={"version": quotation.version}, auto_id=f"id_q{quotation.pk}_%s"),
    }


def _order_card(order: WorkOrder, form: EvaluationForm | None = None, invoice_form=None, quotation_form=None) -> dict:
    evaluation = Evaluation.objects.filter(work_order=order).first()
    finished = order.status in EVALUABLE_STATUSES
    return {
        "billing": _bill_card(order, invoice_form),
        "quotation": _quotation_card(order, quotation_form),
        "order": order,
        "status": progress.CUSTOMER_STATUS.get(order.status, order.get_status_display()),
        "steps": progress.steps(order),
        "percent": progress.progress_percent(order),
        "engineer": progress.lead_engineer_name(order),
        "timeline": progress.timeline(order),
        "finished": finished,
        "evaluation": evaluation,
        "form": (form or EvaluationForm(auto_id=f"id_%s_{order.pk}")) if finished and evaluation is None else None,
    }


def _public_status(service_request: ServiceRequest) -> str:
    """The request's status as its follower sees it. "Open" and "waiting for confirmation" differ
    only in whether the reporter's phone is a registered contact, which a public page must not tell."""
    if service_request.status in (RequestStatus.OPEN, RequestStatus.UNCONFIRMED):
        return _("Received")
    return service_request.get_status_display()


def _follow_page(
    request,
    service_request: ServiceRequest,
    forms: dict | None = None,
    invoice_forms: dict | None = None,
    quotation_forms: dict | None = None,
):
    forms = forms or {}
    invoice_forms = invoice_forms or {}
    quotation_forms = quotation_forms or {}
    orders = service_request.work_orders.select_related("equipment__product_model").order_by("created_at", "pk")
    equipment = service_request.equipment
    return render(
        request,
        "portal/follow.html",
        {
            "service_request": service_request,
            "status": _public_status(service_request),
            "equipment": equipment,
            "cards": [
                _order_card(order, forms.get(order.pk), invoice_forms.get(order.pk), quotation_forms.get(order.pk))
                for order in orders
            ],
        },
    )


def _resolve(token: str, order_pk: int | None = None) -> tuple[ServiceRequest, WorkOrder | None]:
    service_request = request_by_follow_token(token)
    if order_pk is None:
        return service_request, None
    # Only orders of the request the token is for; any other id is "not found".
    order = get_object_or_404(
        WorkOrder.objects.select_related("equipment__product_model"), pk=order_pk, request=service_request
    )
    return service_request, order


@private
def follow(request, token):
    try:
        service_request, _order = _resolve(token)
    except Http404:
        return _unknown(request)
    return _follow_page(request, service_request)


@private
@require_POST
def evaluate(request, token, order_pk):
    try:
        service_request, order = _resolve(token, order_pk)
    except Http404:
        return _unknown(request)
    form = EvaluationForm(request.POST, auto_id=f"id_%s_{order.pk}")
    if form.is_valid():
        try:
            submit_evaluation(order, follow_token=service_request.follow_token, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except (DomainError, PermissionDenied) as error:
            messages.error(request, getattr(error, "message", None) or str(error))
            return redirect("portal:follow", token=token)
        else:
            messages.success(request, _("Thank you for rating our service."))
            return redirect("portal:follow", token=token)
    return _follow_page(request, service_request, {order.pk: form})


@private
def report_pdf(request, token, order_pk):
    try:
        _request, order = _resolve(token, order_pk)
    except Http404:
        return _unknown(request)
    if order.status not in EVALUABLE_STATUSES:
        return _unknown(request)
    response = HttpResponse(render_service_report(order), content_type="application/pdf")
    filename = f"service-report-{slugify(order.number or str(order.pk))}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _order_bill(order: WorkOrder):
    bill = bill_of_order(order)
    if bill is None or bill.status == BillStatus.DRAFT:
        raise Http404
    return bill


@private
@require_POST
def pay(request, token, order_pk):
    """Start paying the order's bill online: to the gateway's page, and back here after."""
    try:
        service_request, order = _resolve(token, order_pk)
        bill = _order_bill(order)
    except Http404:
        return _unknown(request)
    try:
        online = start_online_payment(
            bill, method=request.POST.get("method", ""), follow_token=service_request.follow_token
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("portal:follow", token=token)
    except (DomainError, PermissionDenied) as error:
        messages.error(request, getattr(error, "message", None) or str(error))
        return redirect("portal:follow", token=token)
    back = reverse("portal:follow", args=[token]) + f"#order-{order.pk}"
    return redirect(gateways.get(online.gateway).start(online, return_url=back))


@private
@require_POST
def invoice(request, token, order_pk):
    """The customer asks for a tax invoice (开票申请) for the order's bill."""
    try:
        service_request, order = _resolve(token, order_pk)
        bill = _order_bill(order)
    except Http404:
        return _unknown(request)
    form = InvoiceRequestForm(request.POST, auto_id=f"id_%s_invoice_{order.pk}")
    if form.is_valid():
        try:
            request_invoice(bill, actor=None, follow_token=service_request.follow_token, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except (DomainError, PermissionDenied) as error:
            messages.error(request, getattr(error, "message", None) or str(error))
            return redirect("portal:follow", token=token)
        else:
            messages.success(request, _("Your invoice request has been sent."))
            return redirect("portal:follow", token=token)
    return _follow_page(request, service_request, invoice_forms={order.pk: form})


def _follow_quotation(token: str, order_pk: int, quotation_pk: int):
    service_request, order = _resolve(token, order_pk)
    # Only a sent quotation of an order of this request; any other id is "not found".
    quotation = get_object_or_404(billing_selectors.quotations_on_follow_link(order), pk=quotation_pk)
    return service_request, order, quotation


def _decide(request, token, order_pk, quotation_pk, *, approve: bool):
    try:
        service_request, order, quotation = _follow_quotation(token, order_pk, quotation_pk)
    except Http404:
        return _unknown(request)
    form = CustomerDecisionForm(request.POST, auto_id=f"id_q{quotation.pk}_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            if approve:
                quotation_services.approve_quotation(
                    quotation,
                    version=data["version"],
                    channel=DecisionChannel.FOLLOW_LINK,
                    signer_name=data["signer_name"],
                    follow_token=service_request.follow_token,
                )
            else:
                quotation_services.decline_quotation(
                    quotation,
                    version=data["version"],
                    reason=data["reason"],
                    channel=DecisionChannel.FOLLOW_LINK,
                    follow_token=service_request.follow_token,
                )
        except ValidationError as error:
            add_service_errors(form, error)
        except (DomainError, PermissionDenied) as error:
            messages.error(request, getattr(error, "message", None) or str(error))
            return redirect("portal:follow", token=token)
        else:
            if approve:
                messages.success(
                    request, _("Thank you: you approved quotation %(number)s.") % {"number": quotation.number}
                )
            else:
                messages.success(request, _("You declined quotation %(number)s.") % {"number": quotation.number})
            return redirect("portal:follow", token=token)
    return _follow_page(request, service_request, quotation_forms={order.pk: form})


@private
@require_POST
def approve_quotation(request, token, order_pk, quotation_pk):
    return _decide(request, token, order_pk, quotation_pk, approve=True)


@private
@require_POST
def decline_quotation(request, token, order_pk, quotation_pk):
    return _decide(request, token, order_pk, quotation_pk, approve=False)


@private
def quotation_pdf(request, token, order_pk, quotation_pk):
    try:
        _request, _order, quotation = _follow_quotation(token, order_pk, quotation_pk)
    except Http404:
        return _unknown(request)
    version = billing_selectors.version_of(quotation)
    response = HttpResponse(
        render_quotation_pdf(version, language=request.GET.get("lang") or None), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="quotation-{slugify(quotation.number)}.pdf"'
    return response
