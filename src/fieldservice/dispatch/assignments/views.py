"""Dispatch pages: the queue of orders to give out, one order's dispatch page, the provider
admins' queue, and the order's engineers on the work order page. Thin views: parse a form, call
a service, redirect with a message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core import panels
from fieldservice.core.errors import DomainError, require
from fieldservice.core.forms import add_service_errors
from fieldservice.core.htmx import wants_fragment
from fieldservice.core.listing import paginate
from fieldservice.dispatch.assignments import selectors, services
from fieldservice.dispatch.assignments.forms import (
    AddHelperForm,
    DispatchEngineerForm,
    DispatchProviderForm,
    ProviderAssignForm,
    ProviderRejectForm,
    QueueFilterForm,
    ReassignForm,
    RevokeHelperForm,
    RevokeLeadForm,
)
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.dispatch.models import DispatchRule
from fieldservice.dispatch.permissions import may_dispatch
from fieldservice.dispatch.rules import autodispatch
from fieldservice.workorders.choices import STATUS_COLOURS, TO_DISPATCH_STATUSES, Priority
from fieldservice.workorders.selectors import get_work_order_for, orders_to_dispatch, service_log

# Urgent first, then oldest first within a priority.
PRIORITY_RANK = Case(
    When(priority=Priority.URGENT, then=Value(0)),
    When(priority=Priority.HIGH, then=Value(1)),
    When(priority=Priority.NORMAL, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)
QUEUE_SUGGESTIONS = 3
ORDER_CANDIDATES = 50


def _require_dispatch(user) -> None:
    require(may_dispatch(user))


def order_panel(request, order) -> str:
    """The order's engineers, a panel of the work order page (`core.panels`)."""
    assignments = selectors.assignments_for(request.user).filter(work_order=order).order_by("role", "assigned_at", "pk")
    return render_to_string(
        "dispatch/_order_assignments.html", {"order": order, "assignments": assignments}, request=request
    )


@login_required
def queue(request):
    _require_dispatch(request.user)
    orders = orders_to_dispatch(request.user).select_related("fault_category")
    filters = QueueFilterForm(request.GET or None, orders=orders)
    orders = filters.filter(orders).annotate(priority_rank=PRIORITY_RANK).order_by("priority_rank", "created_at", "pk")
    page = paginate(request, orders)
    suggestions = selectors.candidates_for_orders(page.object_list, request.user, limit=QUEUE_SUGGESTIONS)
    rows = [{"order": order, "candidates": suggestions.get(order.pk, [])} for order in page.object_list]
    context = {"page": page, "rows": rows, "filters": filters, "filtered": bool(filters.data)}
    if wants_fragment(request):
        return render(request, "dispatch/queue.html#results", context)
    return render(request, "dispatch/queue.html", context)


@login_required
@require_POST
def run_rules(request):
    _require_dispatch(request.user)
    counts = autodispatch.run_rules(actor=request.user)
    if not DispatchRule.objects.filter(is_active=True).exists():
        messages.info(request, _("There is no active dispatch rule: nothing was given out."))
    else:
        messages.success(
            request,
            _(
                "Of %(orders)s orders in the queue, %(waiting)s were free for the rules (the others wait in the "
                "grab pool). The rules gave out %(assigned)s and put %(pooled)s in the grab pool; %(nobody)s "
                "matched a rule that found nobody, %(unmatched)s matched no rule."
            )
            % {**counts, "unmatched": counts["waiting"] - counts["matched"]},
        )
    return redirect("dispatch:queue")


@login_required
def candidates(request, pk: int):
    """The full candidate table of one order: the queue expands a row with it (htmx)."""
    _require_dispatch(request.user)
    order = get_work_order_for(request.user, pk)
    context = {
        "order": order,
        "candidates": selectors.candidates_for(order, request.user, limit=ORDER_CANDIDATES),
        "dispatchable": order.status in TO_DISPATCH_STATUSES,
    }
    return render(request, "dispatch/_candidates.html", context)


# One order's dispatch page. Every form posts here with an `action`; each action names its form
# and the service call it makes.


def _dispatch_engineer(request, order, data):
    assignment = services.dispatch_to_engineer(
        order, actor=request.user, engineer=data["engineer"], note=data.get("note", "")
    )
    return _("Work order %(number)s offered to %(name)s.") % {"number": order.number, "name": assignment.engineer}


def _dispatch_provider(request, order, data):
    assignment = services.dispatch_to_provider(
        order, actor=request.user, provider=data["provider"], note=data.get("note", "")
    )
    return _("Work order %(number)s given to %(name)s.") % {"number": order.number, "name": assignment.provider}


def _reassign(request, order, data):
    assignment = services.reassign(order, actor=request.user, engineer=data["engineer"], reason=data["reason"])
    return _("Work order %(number)s reassigned to %(name)s.") % {"number": order.number, "name": assignment.engineer}


def _revoke_lead(request, order, data):
    lead = _lead_of(order)
    if lead is None:
        raise DomainError("not_dispatched", _("The order has no lead engineer or provider to revoke."))
    services.revoke_assignment(lead, actor=request.user, reason=data["reason"])
    return _("Work order %(number)s taken back.") % {"number": order.number}


def _add_helper(request, order, data):
    assignment = services.add_helper(order, actor=request.user, engineer=data["engineer"])
    return _("%(name)s added as a helper.") % {"name": assignment.engineer}


def _revoke_helper(request, order, data):
    assignment = data["assignment"]
    services.revoke_assignment(assignment, actor=request.user, reason=data["reason"])
    return _("Helper %(name)s removed.") % {"name": assignment.engineer}


ACTIONS = {
    "dispatch_engineer": (DispatchEngineerForm, _dispatch_engineer),
    "dispatch_provider": (DispatchProviderForm, _dispatch_provider),
    "reassign": (ReassignForm, _reassign),
    "revoke_lead": (RevokeLeadForm, _revoke_lead),
    "add_helper": (AddHelperForm, _add_helper),
    "revoke_helper": (RevokeHelperForm, _revoke_helper),
}


def _lead_of(order):
    return (
        order.assignments.filter(role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES)
        .select_related("engineer", "provider")
        .first()
    )


@login_required
@require_http_methods(["GET", "POST"])
def order(request, pk: int):
    _require_dispatch(request.user)
    work_order = get_work_order_for(request.user, pk)
    # One page holds every form: ids carry the action so labels point at the right field.
    forms = {
        name: form_class(actor=request.user, order=work_order, auto_id=f"{name}-%s")
        for name, (form_class, _h) in ACTIONS.items()
    }
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ACTIONS:
            messages.error(request, _("Unknown action."))
            return redirect("dispatch:order", pk=work_order.pk)
        form_class, handler = ACTIONS[action]
        form = forms[action] = form_class(request.POST, actor=request.user, order=work_order, auto_id=f"{action}-%s")
        if form.is_valid():
            try:
                message = handler(request, work_order, form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            except DomainError as error:
                messages.error(request, error.message)
                return redirect("dispatch:order", pk=work_order.pk)
            else:
                messages.success(request, message)
                return redirect("dispatch:order", pk=work_order.pk)
    lead = _lead_of(work_order)
    context = {
        "order": work_order,
        "forms": forms,
        "lead": lead,
        "assignments": work_order.assignments.select_related("engineer", "provider", "assigned_by", "rule"),
        "helpers": forms["revoke_helper"].fields["assignment"].queryset,
        "candidates": selectors.candidates_for(work_order, request.user, limit=ORDER_CANDIDATES),
        "dispatchable": work_order.status in TO_DISPATCH_STATUSES,
        "status_colours": STATUS_COLOURS,
        "log": service_log(work_order),
        # What apps below dispatch show of the order to its dispatcher (the parts asked for it).
        "panels": panels.render("dispatch.order", request, work_order),
    }
    return render(request, "dispatch/order.html", context)


# The provider admin's queue


def _require_provider_admin(user) -> None:
    require(can(user, Capability.ASSIGN_PROVIDER_ENGINEERS) and user.organisation_id is not None)


def _provider_queue_page(request, bound: dict | None = None):
    user = request.user
    to_staff = list(selectors.provider_assignments_to_staff(user).order_by("assigned_at", "pk"))
    rows = []
    for assignment in to_staff:
        forms = (bound or {}).get(assignment.pk) or {}
        rows.append(
            {
                "assignment": assignment,
                "assign_form": forms.get("assign") or ProviderAssignForm(actor=user, prefix=f"a{assignment.pk}"),
                "reject_form": forms.get("reject") or ProviderRejectForm(prefix=f"r{assignment.pk}"),
            }
        )
    in_progress = (
        selectors.assignments_for(user)
        .filter(
            selectors.held_by_provider(user.organisation_id),
            engineer__isnull=False,
            status__in=ACTIVE_ASSIGNMENT_STATUSES,
        )
        .select_related("work_order__customer", "work_order__site")
        .order_by("-assigned_at", "-pk")
    )
    context = {"rows": rows, "in_progress": in_progress, "status_colours": STATUS_COLOURS}
    return render(request, "dispatch/provider_queue.html", context)


@login_required
def provider_queue(request):
    _require_provider_admin(request.user)
    return _provider_queue_page(request)


def _provider_answer(request, pk: int, key: str, form, call):
    if form.is_valid():
        try:
            message = call(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("dispatch:provider_queue")
        else:
            messages.success(request, message)
            return redirect("dispatch:provider_queue")
    return _provider_queue_page(request, bound={pk: {key: form}})


@login_required
@require_POST
def provider_assign(request, pk: int):
    _require_provider_admin(request.user)
    assignment = selectors.get_assignment_for(request.user, pk)
    form = ProviderAssignForm(request.POST, actor=request.user, prefix=f"a{pk}")

    def call(data):
        services.assign_provider_engineer(assignment, actor=request.user, engineer=data["engineer"])
        return _("Work order %(number)s given to %(name)s.") % {
            "number": assignment.work_order.number,
            "name": data["engineer"],
        }

    return _provider_answer(request, pk, "assign", form, call)


@login_required
@require_POST
def provider_reject(request, pk: int):
    _require_provider_admin(request.user)
    assignment = selectors.get_assignment_for(request.user, pk)
    form = ProviderRejectForm(request.POST, prefix=f"r{pk}")

    def call(data):
        services.reject_assignment(assignment, actor=request.user, reason=data["reason"])
        return _("Work order %(number)s returned to dispatch.") % {"number": assignment.work_order.number}

    return _provider_answer(request, pk, "reject", form, call)
