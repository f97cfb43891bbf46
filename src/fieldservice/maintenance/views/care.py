"""Pages of customer care: the plan list (with its effect, and the Excel export), the plan's form
with a preview of the text for one customer, the plan's page (its touches, effect and moves, the
letters' PDF), and "My care tasks" where the people named record each call's or visit's outcome."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.core.errors import DomainError
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing, paginate
from fieldservice.core.money import format_money
from fieldservice.customers.choices import CustomerKind, CustomerTier
from fieldservice.customers.models import Customer
from fieldservice.maintenance.care_permissions import may_manage_care
from fieldservice.maintenance.forms.care import (
    CareInvalidateForm,
    CareOutcomeForm,
    CarePlanFilterForm,
    CarePlanForm,
)
from fieldservice.maintenance.letters import render_care_letters
from fieldservice.maintenance.models.care import TASK_METHODS, CareMethod, CarePlan, CarePlanStatus
from fieldservice.maintenance.selectors import care as selectors
from fieldservice.maintenance.services import care as services

STATUS_COLOURS = {
    CarePlanStatus.PLAN: "",
    CarePlanStatus.ACTIVE: "warn",
    CarePlanStatus.RUNNING: "ok",
    CarePlanStatus.CLOSED: "",
    CarePlanStatus.INVALID: "bad",
}


def _cost_per_response(plan) -> str:
    value = selectors.effect_from(plan).cost_per_response
    return format_money(value, plan.currency) if value is not None else ""


CARE_PLANS = Listing(
    columns=[
        Column(gettext_lazy("Name"), lambda p: p.name, link=lambda p: reverse("maintenance:care_plan", args=[p.pk])),
        Column(
            gettext_lazy("Status"), lambda p: p.get_status_display(), badge=lambda p: STATUS_COLOURS.get(p.status, "")
        ),
        Column(gettext_lazy("Occasion"), lambda p: p.occasion_label),
        Column(gettext_lazy("Method"), lambda p: p.get_method_display(), default="—"),
        Column(gettext_lazy("Starts on"), lambda p: p.starts_on, date="SHORT_DATE_FORMAT"),
        Column(gettext_lazy("Ends on"), lambda p: p.ends_on, page=False),
        Column(gettext_lazy("Customers touched"), lambda p: p.effect_touched),
        Column(gettext_lazy("Responses"), lambda p: p.effect_responses),
        Column(gettext_lazy("Leads"), lambda p: p.effect_leads),
        Column(gettext_lazy("Requests that followed"), lambda p: p.effect_requests),
        Column(gettext_lazy("Budget"), lambda p: format_money(p.budget, p.currency), page=False),
        Column(gettext_lazy("Actual cost"), lambda p: format_money(p.actual_cost, p.currency)),
        Column(gettext_lazy("Cost per response"), _cost_per_response, default="—"),
        Column(gettext_lazy("Effect window (days)"), lambda p: p.effect_days, page=False),
        Column(gettext_lazy("Reason for invalidating"), lambda p: p.invalid_reason, page=False),
    ],
    filter_form=CarePlanFilterForm,
    search=gettext_lazy("Name, occasion or subject"),
    order=("-starts_on", "-pk"),
    row_id="care-plan",
    empty=gettext_lazy("No care plans yet. Greet, thank or remind your customers with one."),
    empty_filtered=gettext_lazy("No care plan matches these filters."),
    export_name="care-plans",
    export_title=gettext_lazy("Care plans"),
)


def _manager(request) -> None:
    # Care is not for customers or providers to know of: a 404, as for a plan that is not there.
    if not may_manage_care(request.user):
        raise Http404


@login_required
def care_plan_list(request):
    _manager(request)
    filters = CARE_PLANS.filters(request)
    data = filters.cleaned_data if filters is not None and filters.is_valid() else {}
    plans = selectors.filter_care_plans(
        selectors.care_plans_for(request.user),
        q=request.GET.get("q", ""),
        status=data.get("status", ""),
        method=data.get("method", ""),
        occasion=data.get("occasion", ""),
    )
    return CARE_PLANS.render(request, "maintenance/care_plan_list.html", selectors.with_effect(plans), filters=filters)


def _plan(request, pk) -> CarePlan:
    return selectors.get_care_plan_for(request.user, pk)


def _initial(plan: CarePlan) -> dict:
    return {
        "name": plan.name,
        "occasion": plan.occasion,
        "occasion_note": plan.occasion_note,
        "method": plan.method,
        "target_tiers": plan.target_tiers,
        "target_kinds": plan.target_kinds,
        "target_industry": plan.target_industry,
        "chosen": plan.chosen,
        "customer_codes": " ".join(plan.customers.order_by("code").values_list("code", flat=True)),
        "subject": plan.subject,
        "body": plan.body,
        "participants": list(plan.participants.values_list("pk", flat=True)),
        "currency": plan.currency,
        "budget": plan.budget,
        "actual_cost": plan.actual_cost,
        "starts_on": plan.starts_on,
        "ends_on": plan.ends_on,
        "effect_days": plan.effect_days,
    }


def _fields(form: CarePlanForm, plan: CarePlan | None) -> dict:
    """The service's fields from the form; once a plan runs, only what may still change."""
    data = form.cleaned_data
    codes = form.codes(data["customer_codes"])
    found = dict(Customer.objects.filter(code__in=codes).values_list("code", "pk"))
    missing = [code for code in codes if code not in found]
    if missing:
        raise ValidationError(
            {"customer_codes": ValidationError(_("No customer with code %(code)s.") % {"code": missing[0]})}
        )
    fields = {
        "name": data["name"],
        "occasion": data["occasion"],
        "occasion_note": data["occasion_note"],
        "method": data["method"],
        "target_tiers": data["target_tiers"],
        "target_kinds": data["target_kinds"],
        "target_industry": data["target_industry"],
        "chosen": data["chosen"],
        "customers": [found[code] for code in codes],
        "subject": data["subject"],
        "body": data["body"],
        "participants": [user.pk for user in data["participants"]],
        "currency": data["currency"],
        "budget": data["budget"],
        "actual_cost": data["actual_cost"],
        "starts_on": data["starts_on"],
        "ends_on": data["ends_on"],
        "effect_days": data["effect_days"],
    }
    if plan is not None and plan.status not in services.EDITABLE:
        fields = {name: value for name, value in fields.items() if name in services.RUNNING_FIELDS}
    return fields


def _preview(request, form: CarePlanForm):
    data = form.cleaned_data
    customer = None
    code = data.get("preview_customer", "").strip()
    if code:
        customer = Customer.objects.filter(code=code).first()
        if customer is None:
            form.add_error("preview_customer", _("No customer with code %(code)s.") % {"code": code})
            return None
    else:
        codes = form.codes(data["customer_codes"])
        customer = Customer.objects.filter(code__in=codes[:1]).first() if codes else None
    subject, body = services.preview_content(
        actor=request.user,
        subject=data["subject"],
        body=data["body"],
        customer=customer,
        name=data["name"],
        occasion=data["occasion"],
    )
    return {"subject": subject, "body": body, "customer": customer}


def _write(request, plan: CarePlan | None):
    if request.method != "POST":
        initial = _initial(plan) if plan else {"starts_on": timezone.localdate(), "effect_days": 30}
        form = CarePlanForm(initial=initial)
        return render(request, "maintenance/care_plan_form.html", {"form": form, "plan": plan})
    form = CarePlanForm(request.POST)
    preview = None
    if form.is_valid():
        try:
            if "preview" in request.POST:
                preview = _preview(request, form)
            elif plan is None:
                plan = services.create_care_plan(actor=request.user, **_fields(form, None))
                messages.success(request, _("Care plan “%(name)s” saved.") % {"name": plan.name})
                return redirect("maintenance:care_plan", pk=plan.pk)
            else:
                services.update_care_plan(plan, actor=request.user, **_fields(form, plan))
                messages.success(request, _("Care plan “%(name)s” saved.") % {"name": plan.name})
                return redirect("maintenance:care_plan", pk=plan.pk)
        except ValidationError as error:
            add_service_errors(form, error, {"customers": "customer_codes", "reason": None})
        except DomainError as error:
            form.add_error(None, error.message)
    return render(request, "maintenance/care_plan_form.html", {"form": form, "plan": plan, "preview": preview})


@login_required
def care_plan_create(request):
    _manager(request)
    return _write(request, None)


@login_required
def care_plan_edit(request, pk):
    plan = _plan(request, pk)
    if plan.status == CarePlanStatus.INVALID:
        messages.error(request, _("An invalidated care plan cannot be changed."))
        return redirect("maintenance:care_plan", pk=plan.pk)
    return _write(request, plan)


def _targets(plan: CarePlan) -> str:
    """Whom the plan reaches, in words: the tiers and kinds by their labels, and the industry."""
    if plan.chosen:
        return _("%(n)s chosen customers") % {"n": plan.customers.count()}
    tiers, kinds = dict(CustomerTier.choices), dict(CustomerKind.choices)
    parts = [", ".join(str(tiers.get(code, code)) for code in plan.target_tiers)]
    parts.append(", ".join(str(kinds.get(code, code)) for code in plan.target_kinds))
    parts.append(plan.target_industry)
    return " · ".join(part for part in parts if part) or "—"


@login_required
def care_plan_detail(request, pk):
    plan = _plan(request, pk)
    touches = paginate(request, selectors.touches_of(request.user, plan), 50)
    return render(
        request,
        "maintenance/care_plan_detail.html",
        {
            "plan": plan,
            "effect": selectors.effect_of(plan),
            "page": touches,
            "touches": touches.object_list,
            "badge": STATUS_COLOURS.get(plan.status, ""),
            "is_task_plan": plan.method in TASK_METHODS,
            "has_letters": plan.method == CareMethod.LETTER and plan.run_at is not None,
            "may_edit": plan.status != CarePlanStatus.INVALID,
            "may_activate": plan.status == CarePlanStatus.PLAN,
            "may_run": plan.status in (CarePlanStatus.ACTIVE, CarePlanStatus.RUNNING),
            "may_close": plan.status == CarePlanStatus.RUNNING,
            "may_invalidate": plan.status in (CarePlanStatus.PLAN, CarePlanStatus.ACTIVE),
            "invalidate_form": CareInvalidateForm(),
            "participants": plan.participants.order_by("username"),
            "targets": _targets(plan),
        },
    )


def _fail(request, error) -> None:
    if isinstance(error, ValidationError):
        messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, error.message)


@login_required
@require_POST
def care_plan_move(request, pk, verb):
    plan = _plan(request, pk)
    try:
        if verb == "activate":
            services.activate_care_plan(plan, actor=request.user)
            messages.success(request, _("The care plan is active."))
        elif verb == "run":
            summary = services.run_care_plan(plan, actor=request.user)
            messages.success(request, _("%(n)s customers touched.") % {"n": summary.created})
        elif verb == "close":
            services.close_care_plan(plan, actor=request.user)
            messages.success(request, _("The care plan is closed."))
        elif verb == "invalidate":
            services.invalidate_care_plan(plan, actor=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, _("The care plan is invalidated."))
        else:
            raise Http404
    except (DomainError, ValidationError) as error:
        _fail(request, error)
    return redirect("maintenance:care_plan", pk=plan.pk)


@login_required
def care_plan_letters(request, pk):
    """The plan's letters, one page per customer, to print."""
    plan = _plan(request, pk)
    if plan.method != CareMethod.LETTER or plan.run_at is None:
        raise Http404
    touches = selectors.touches_of(request.user, plan).select_related("contact")
    language = request.GET.get("lang") or None
    response = HttpResponse(render_care_letters(plan, touches, language=language), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="care-letters-{plan.pk}.pdf"'
    return response


# My care tasks -------------------------------------------------------------------------------------------


@login_required
def my_care_tasks(request):
    show = request.GET.get("show", "open")
    tasks = selectors.care_tasks_for(request.user, open_only=show != "all")
    page = paginate(request, tasks, 25)
    return render(
        request,
        "maintenance/care_tasks.html",
        {"page": page, "tasks": page.object_list, "show": show, "form": CareOutcomeForm()},
    )


@login_required
@require_POST
def care_task_outcome(request, pk):
    touch = selectors.get_touch_for(request.user, pk)
    form = CareOutcomeForm(request.POST)
    back = request.POST.get("next") or ""
    target = (
        reverse("maintenance:care_plan", args=[touch.plan_id])
        if back == "plan"
        else reverse("maintenance:care_tasks") + f"#task-{touch.pk}"
    )
    if not form.is_valid():
        messages.error(request, _("Choose an outcome."))
        return redirect(target)
    try:
        services.record_care_outcome(
            touch, actor=request.user, outcome=form.cleaned_data["outcome"], note=form.cleaned_data["note"]
        )
    except (DomainError, ValidationError) as error:
        _fail(request, error)
    else:
        messages.success(request, _("Outcome recorded for %(customer)s.") % {"customer": touch.customer.name})
    return redirect(target)


def phone_tasks_link(request, user) -> str:
    """The way to his care tasks from an engineer's phone home (slot `field.today`), when he has one."""
    if not selectors.has_care_tasks(user):
        return ""
    return format_html(
        '<a class="button" id="care-tasks-link" href="{}">{}</a>', reverse("maintenance:care_tasks"), _("My care tasks")
    )


urlpatterns = [
    path("care/", care_plan_list, name="care_plans"),
    path("care/new/", care_plan_create, name="care_plan_create"),
    path("care/<int:pk>/", care_plan_detail, name="care_plan"),
    path("care/<int:pk>/edit/", care_plan_edit, name="care_plan_edit"),
    path("care/<int:pk>/letters.pdf", care_plan_letters, name="care_plan_letters"),
    path("care/<int:pk>/<str:verb>/", care_plan_move, name="care_plan_move"),
    path("care/tasks/", my_care_tasks, name="care_tasks"),
    path("care/tasks/<int:pk>/outcome/", care_task_outcome, name="care_task_outcome"),
]
