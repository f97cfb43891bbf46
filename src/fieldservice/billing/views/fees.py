"""Fee lines on the order pages: the desk panel (slot `workorders.order`), the phone panel (slot
`field.order`), and the small pages their forms post to. Thin: parse, call the service, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fieldservice.billing import selectors
from fieldservice.billing.choices import FeeKind
from fieldservice.billing.forms import FeeCorrectForm, FeeLineForm, FeeVoidForm, OtherCostForm
from fieldservice.billing.permissions import may_manage_billing, may_see_costs
from fieldservice.billing.services import fees, pricing
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors


def _panel_context(request, order) -> dict:
    lines = list(selectors.fee_lines_of(order))
    return {
        "order": order,
        "lines": lines,
        "totals": fees.totals(lines),
        "currency": lines[0].currency if lines else "CNY",
        "show_costs": may_see_costs(request.user),
        "may_manage": may_manage_billing(request.user) and not fees.is_frozen(order),
        "frozen": fees.is_frozen(order),
    }


def order_panel(request, order) -> str:
    """The fee lines on the desk's work order page, for those who may read them."""
    user = request.user
    if not user.is_authenticated or not selectors.fee_orders_for(user).filter(pk=order.pk).exists():
        return ""
    context = _panel_context(request, order)
    if context["may_manage"]:
        context["add_form"] = FeeLineForm()
    return render_to_string("billing/_order_fees.html", context, request=request)


def field_panel(request, order) -> str:
    """The fee lines on the engineer's phone (no internal costs) and his form for another cost."""
    user = request.user
    if not user.is_authenticated or not selectors.fee_orders_for(user).filter(pk=order.pk).exists():
        return ""
    context = _panel_context(request, order)
    context["show_costs"] = False
    context["may_add"] = fees.may_add_as_engineer(user, order) and not context["frozen"]
    if not context["lines"] and not context["may_add"]:
        return ""
    return render_to_string("billing/_field_fees.html", context, request=request)


def _back(order):
    return redirect("workorders:order_detail", pk=order.pk)


@login_required
@require_http_methods(["GET", "POST"])
def fee_add(request, order_pk: int):
    order = selectors.get_fee_order_for(request.user, order_pk)
    require(may_manage_billing(request.user))
    form = FeeLineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            fees.add_fee_line(order, actor=request.user, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return _back(order)
        else:
            messages.success(request, _("Fee line added."))
            return _back(order)
    title = _("Add a fee line to %(number)s") % {"number": order.number}
    return render(request, "billing/fee_form.html", {"form": form, "order": order, "title": title})


@login_required
@require_http_methods(["GET", "POST"])
def fee_correct(request, pk: int):
    line = selectors.get_fee_line_for(request.user, pk)
    require(may_manage_billing(request.user))
    form = FeeCorrectForm(request.POST or None, initial=FeeCorrectForm.initial_for(line))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        initial = FeeCorrectForm.initial_for(line)
        changed = {name: value for name, value in data.items() if str(value) != str(initial.get(name, ""))}
        try:
            fees.correct_fee_line(line, actor=request.user, reason=reason, **changed)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return _back(line.work_order)
        else:
            messages.success(request, _("Fee line corrected."))
            return _back(line.work_order)
    title = _("Correct %(line)s") % {"line": line.description}
    context = {"form": form, "order": line.work_order, "line": line, "title": title}
    return render(request, "billing/fee_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def fee_void(request, pk: int):
    line = selectors.get_fee_line_for(request.user, pk)
    require(fees.may_void(request.user, line))
    phone = not may_manage_billing(request.user)
    form = FeeVoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            fees.void_fee_line(line, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Fee line removed."))
        if not form.errors:
            return redirect("field:order", pk=line.work_order_id) if phone else _back(line.work_order)
    title = _("Remove %(line)s") % {"line": line.description}
    context = {"form": form, "order": line.work_order, "line": line, "title": title, "danger": True}
    return render(request, "billing/fee_form.html", context)


@login_required
@require_POST
def order_price(request, order_pk: int):
    order = selectors.get_fee_order_for(request.user, order_pk)
    try:
        pricing.price_order(order, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Priced from the visit."))
    return _back(order)


@login_required
@require_http_methods(["GET", "POST"])
def other_cost(request, order_pk: int):
    """The engineer's phone: add a cost he paid, with its receipt."""
    order = selectors.get_fee_order_for(request.user, order_pk)
    require(fees.may_add_as_engineer(request.user, order))
    form = OtherCostForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            fees.add_fee_line(
                order,
                actor=request.user,
                kind=FeeKind.OTHER,
                description=data["description"],
                unit_price=data["unit_price"],
                receipt_file=data["receipt"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("field:order", pk=order.pk)
        else:
            messages.success(request, _("Cost added."))
            return redirect("field:order", pk=order.pk)
    return render(request, "billing/phone_other_cost.html", {"form": form, "order": order})
