"""Quotation pages: the desk's list, detail (every version by ?version=N), the form that writes a
version (with the author's context: last prices, open receivables, estimated profit), the verbs
(send, void, record the customer's decision), the PDF; the panel on the work order page and the
engineer's phone panel where the customer signs to approve or declines."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.billing import selectors
from fieldservice.billing.choices import STATUS_COLOURS, DecisionChannel, QuotationStatus
from fieldservice.billing.forms import (
    DecisionForm,
    QuotationFilterForm,
    QuotationForm,
    QuotationReasonForm,
    QuotationSignatureForm,
)
from fieldservice.billing.pdf import render_quotation_pdf
from fieldservice.billing.permissions import (
    is_engineer_on,
    may_manage_billing,
    may_see_costs,
    may_view_billing,
    may_write_quotation,
)
from fieldservice.billing.services import quotations as services
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.core.money import format_money
from fieldservice.core.validation import parse_id
from fieldservice.inventory.selectors import parts_for
from fieldservice.workorders.selectors import get_work_order_for

DEFAULT_VALIDITY_DAYS = 14
DEFAULT_TAX_RATE = "13"

QUOTATIONS = Listing(
    columns=[
        Column(
            gettext_lazy("Number"),
            lambda r: r.number,
            link=lambda r: reverse("billing:quotation_detail", args=[r.pk]),
        ),
        Column(
            gettext_lazy("Work order"),
            lambda r: r.work_order.number,
            link=lambda r: reverse("workorders:order_detail", args=[r.work_order_id]),
        ),
        Column(gettext_lazy("Customer"), lambda r: r.customer.name),
        Column(
            gettext_lazy("Status"), lambda r: r.get_status_display(), badge=lambda r: STATUS_COLOURS.get(r.status, "")
        ),
        Column(gettext_lazy("Version"), lambda r: r.version),
        Column(gettext_lazy("Total"), lambda r: format_money(r.total, r.currency)),
        Column(gettext_lazy("Valid until"), lambda r: r.valid_until, date="SHORT_DATE_FORMAT"),
        Column(gettext_lazy("Written by"), lambda r: r.created_by.get_full_name() or r.created_by.username),
        Column(gettext_lazy("Created"), lambda r: r.created_at, date="SHORT_DATE_FORMAT"),
        Column(gettext_lazy("Reason for declining"), lambda r: r.decline_reason, page=False),
    ],
    filter_form=QuotationFilterForm,
    search=gettext_lazy("Number, work order or customer"),
    order=("-created_at", "-pk"),
    empty=gettext_lazy("No quotations yet. Write one from a work order."),
    empty_filtered=gettext_lazy("No quotation matches these filters."),
    export_name="quotations",
    export_title=gettext_lazy("Quotations"),
)


def _sees_costs(user, order) -> bool:
    """Our costs and the estimated profit: the back office, and our own engineer writing the
    quotation on site (never a partner's engineer)."""
    return may_see_costs(user) or (getattr(user, "is_own_staff", False) and is_engineer_on(user, order))


def _fail(request, error) -> None:
    messages.error(request, getattr(error, "message", None) or str(error))


@login_required
def quotation_list(request):
    require(may_view_billing(request.user))
    filters = QUOTATIONS.filters(request)
    quotations = selectors.quotations_for(request.user)
    if filters is not None and filters.is_valid() and filters.cleaned_data.get("status"):
        quotations = quotations.filter(status=filters.cleaned_data["status"])
    quotations = selectors.search_quotations(quotations, request.GET.get("q", "")[:100])
    return QUOTATIONS.render(request, "billing/quotation_list.html", quotations, filters=filters)


def _context_rows(version, context) -> list[dict]:
    lines = list(version.lines.all())
    return [{"line": line, "last": last} for line, last in zip(lines, context["last_prices"], strict=True)]


@login_required
def quotation_detail(request, pk):
    quotation = selectors.get_quotation_for(request.user, pk)
    number = request.GET.get("version")
    version = selectors.version_of(quotation, parse_id(number) if number else None)
    user = request.user
    costs = _sees_costs(user, quotation.work_order)
    context = selectors.author_context(quotation.customer, version) if costs else None
    is_open = quotation.status in services.OPEN_STATUSES
    writer = may_write_quotation(user, quotation.work_order)
    return render(
        request,
        "billing/quotation_detail.html",
        {
            "quotation": quotation,
            "version": version,
            "versions": quotation.versions.order_by("number"),
            "is_current": version.number == quotation.version,
            "rows": _context_rows(version, context)
            if context
            else [{"line": line, "last": []} for line in version.lines.all()],
            "receivables": context["receivables"] if context else None,
            "profit": context["profit"] if context else None,
            "show_costs": costs,
            "may_send": writer and quotation.status == QuotationStatus.DRAFT,
            "may_revise": writer and is_open,
            "may_void": writer and is_open,
            "may_record": is_open and may_manage_billing(user),
            "decision_form": DecisionForm(initial={"version": quotation.version}),
            "void_form": QuotationReasonForm(),
            "badge": STATUS_COLOURS.get(quotation.status, ""),
        },
    )


def _form_page(request, order, form, *, quotation=None, preview=None):
    context = selectors.author_context(order.customer, lines=preview.lines if preview else [])
    rows = list(zip(preview.lines, context["last_prices"], strict=True)) if preview else []
    return render(
        request,
        "billing/quotation_form.html",
        {
            "order": order,
            "quotation": quotation,
            "form": form,
            "preview": preview,
            "preview_rows": rows,
            "receivables": context["receivables"],
            "show_costs": _sees_costs(request.user, order),
        },
    )


def _write(request, order, *, quotation=None):
    """The form of a new quotation or of a revision: preview (nothing saved) or save."""
    if request.method != "POST":
        if quotation is not None:
            initial = QuotationForm.initial_from(selectors.version_of(quotation))
            initial["valid_until"] = max(initial["valid_until"], timezone.localdate())
        else:
            initial = {
                "valid_until": timezone.localdate() + dt.timedelta(days=DEFAULT_VALIDITY_DAYS),
                "tax_rate": DEFAULT_TAX_RATE,
            }
        return _form_page(request, order, QuotationForm(initial=initial), quotation=quotation)
    form = QuotationForm(request.POST)
    preview = None
    if form.is_valid():
        lines, aliases = form.clean_lines(parts_for(request.user))
        if not form.errors:
            data = form.cleaned_data
            try:
                if "preview" in request.POST:
                    preview = services.price_lines(order, lines, data["tax_rate"])
                elif quotation is None:
                    made = services.create_quotation(
                        order,
                        actor=request.user,
                        lines=lines,
                        valid_until=data["valid_until"],
                        tax_rate=data["tax_rate"],
                        note=data["note"],
                    )
                    messages.success(request, _("Quotation %(number)s written.") % {"number": made.number})
                    return redirect("billing:quotation_detail", pk=made.pk)
                else:
                    version = services.revise_quotation(
                        quotation,
                        actor=request.user,
                        lines=lines,
                        valid_until=data["valid_until"],
                        tax_rate=data["tax_rate"],
                        note=data["note"],
                    )
                    messages.success(request, _("Version %(number)s written.") % {"number": version.number})
                    return redirect("billing:quotation_detail", pk=quotation.pk)
            except ValidationError as error:
                add_service_errors(form, error, aliases)
            except DomainError as error:
                form.add_error(None, error.message)
    return _form_page(request, order, form, quotation=quotation, preview=preview)


@login_required
def quotation_create(request, order_pk):
    order = get_work_order_for(request.user, order_pk)
    require(may_write_quotation(request.user, order))
    return _write(request, order)


@login_required
def quotation_revise(request, pk):
    quotation = selectors.get_quotation_for(request.user, pk)
    require(may_write_quotation(request.user, quotation.work_order))
    if quotation.status not in services.OPEN_STATUSES:
        messages.error(request, _("Only an open quotation can be revised."))
        return redirect("billing:quotation_detail", pk=quotation.pk)
    return _write(request, quotation.work_order, quotation=quotation)


@login_required
@require_POST
def quotation_send(request, pk):
    quotation = selectors.get_quotation_for(request.user, pk)
    try:
        services.send_quotation(quotation, actor=request.user)
    except DomainError as error:
        _fail(request, error)
    else:
        messages.success(request, _("Quotation %(number)s sent to the customer.") % {"number": quotation.number})
    return redirect("billing:quotation_detail", pk=quotation.pk)


@login_required
@require_POST
def quotation_void(request, pk):
    quotation = selectors.get_quotation_for(request.user, pk)
    form = QuotationReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for voiding the quotation."))
        return redirect("billing:quotation_detail", pk=quotation.pk)
    try:
        services.void_quotation(quotation, actor=request.user, reason=form.cleaned_data["reason"])
    except (DomainError, ValidationError) as error:
        _fail(request, error if isinstance(error, DomainError) else _first(error))
    else:
        messages.success(request, _("Quotation %(number)s voided.") % {"number": quotation.number})
    return redirect("billing:quotation_detail", pk=quotation.pk)


def _first(error: ValidationError) -> str:
    return next(iter(error.messages), "")


@login_required
@require_POST
def quotation_decide(request, pk):
    """The office records the customer's decision."""
    quotation = selectors.get_quotation_for(request.user, pk)
    require(may_manage_billing(request.user))
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approved or declined."))
        return redirect("billing:quotation_detail", pk=quotation.pk)
    data = form.cleaned_data
    try:
        if data["decision"] == "approve":
            services.approve_quotation(
                quotation,
                version=data["version"],
                actor=request.user,
                channel=DecisionChannel.DESK,
                signer_name=data["signer_name"],
            )
            messages.success(request, _("Approval recorded; the lines are now the order's fees."))
        else:
            services.decline_quotation(
                quotation,
                version=data["version"],
                reason=data["reason"],
                actor=request.user,
                channel=DecisionChannel.DESK,
            )
            messages.success(request, _("The customer's decline is recorded."))
    except DomainError as error:
        _fail(request, error)
    except ValidationError as error:
        _fail(request, _first(error))
    return redirect("billing:quotation_detail", pk=quotation.pk)


def pdf_response(version, language: str | None) -> HttpResponse:
    response = HttpResponse(render_quotation_pdf(version, language=language), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="quotation-{version.quotation.number}-v{version.number}.pdf"'
    return response


@login_required
def quotation_pdf(request, pk):
    quotation = selectors.get_quotation_for(request.user, pk)
    number = request.GET.get("version")
    version = selectors.version_of(quotation, parse_id(number) if number else None)
    return pdf_response(version, request.GET.get("lang") or None)


# On the engineer's phone ------------------------------------------------------------------------------


def _phone_quotation(request, pk):
    quotation = selectors.get_quotation_for(request.user, pk)
    if not is_engineer_on(request.user, quotation.work_order):
        raise Http404
    return quotation


def _back_to_phone(quotation):
    return redirect(reverse("field:order", args=[quotation.work_order_id]) + "#quotation")


@login_required
@require_POST
def phone_sign(request, pk):
    """The customer signs on the engineer's phone to approve the quotation."""
    quotation = _phone_quotation(request, pk)
    form = QuotationSignatureForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return _back_to_phone(quotation)
    try:
        services.approve_quotation(
            quotation,
            version=form.cleaned_data["version"],
            actor=request.user,
            channel=DecisionChannel.PHONE,
            signer_name=form.cleaned_data["signer_name"],
            signature=form.cleaned_data["signature"],
        )
    except DomainError as error:
        _fail(request, error)
    except ValidationError as error:
        _fail(request, " ".join(error.messages))
    else:
        messages.success(request, _("The customer approved quotation %(number)s.") % {"number": quotation.number})
    return _back_to_phone(quotation)


@login_required
@require_POST
def phone_decline(request, pk):
    quotation = _phone_quotation(request, pk)
    form = QuotationReasonForm(request.POST)
    version = parse_id(request.POST.get("version"))
    if not form.is_valid() or version is None:
        messages.error(request, _("Write down why the customer declines."))
        return _back_to_phone(quotation)
    try:
        services.decline_quotation(
            quotation,
            version=version,
            reason=form.cleaned_data["reason"],
            actor=request.user,
            channel=DecisionChannel.PHONE,
        )
    except DomainError as error:
        _fail(request, error)
    except ValidationError as error:
        _fail(request, " ".join(error.messages))
    else:
        messages.success(request, _("The customer declined quotation %(number)s.") % {"number": quotation.number})
    return _back_to_phone(quotation)


# Panels -------------------------------------------------------------------------------------------------


def order_panel(request, order) -> str:
    """The order's quotations on the work order page (slot workorders.order), for the back office
    and the engineers on the order."""
    user = request.user
    if not user.is_authenticated or not (may_view_billing(user) or is_engineer_on(user, order)):
        return ""
    quotations = list(selectors.quotations_of_order(user, order))
    may_write = may_write_quotation(user, order) and order.status not in services.ORDER_DONE
    has_open = any(q.status in services.OPEN_STATUSES for q in quotations)
    if not quotations and not may_write:
        return ""
    return render_to_string(
        "billing/_order_quotations.html",
        {
            "order": order,
            "quotations": quotations,
            "may_create": may_write and not has_open,
            "colours": STATUS_COLOURS,
        },
        request=request,
    )


def phone_panel(request, order) -> str:
    """The order's quotation on the engineer's phone (slot field.order): the customer signs to
    approve it, or declines with a reason; or the engineer writes one."""
    user = request.user
    if not user.is_authenticated or not is_engineer_on(user, order):
        return ""
    quotations = list(selectors.quotations_of_order(user, order)[:3])
    current = next((q for q in quotations if q.status in services.OPEN_STATUSES), None)
    may_write = may_write_quotation(user, order) and order.status not in services.ORDER_DONE
    if not quotations and not may_write:
        return ""
    version = selectors.version_of(current) if current is not None else None
    return render_to_string(
        "billing/_phone_quotation.html",
        {
            "order": order,
            "current": current,
            "version": version,
            "lines": list(version.lines.all()) if version else [],
            "decided": [q for q in quotations if q is not current],
            "may_create": may_write and current is None,
            "sign_form": QuotationSignatureForm(initial={"version": current.version}, auto_id="id_q_%s")
            if current
            else None,
            "decline_form": QuotationReasonForm(auto_id="id_qd_%s") if current else None,
        },
        request=request,
    )
