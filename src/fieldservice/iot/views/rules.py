"""The administrator's pages of the rules: alarm codes (what a machine's alarm code means to
the service department) and threshold rules. List, create, edit, deactivate."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fieldservice.core.errors import DomainError
from fieldservice.core.forms import add_service_errors
from fieldservice.core.listing import Column, Listing
from fieldservice.iot.forms.rules import AlarmMappingForm, ThresholdRuleForm
from fieldservice.iot.permissions import may_manage_devices
from fieldservice.iot.selectors import alarms as selectors
from fieldservice.iot.services import configuration as services


def _admin(request) -> None:
    # Not for anyone else to know of: a 404, as for a rule that is not there.
    if not may_manage_devices(request.user):
        raise Http404


ALARM_CODES = Listing(
    columns=[
        Column(
            gettext_lazy("Alarm code"), lambda m: m.code, link=lambda m: reverse("iot:alarm_code_edit", args=[m.pk])
        ),
        Column(gettext_lazy("Description"), lambda m: m.description, default="—"),
        Column(gettext_lazy("Fault category"), lambda m: str(m.fault_category or ""), default="—"),
        Column(gettext_lazy("Priority"), lambda m: m.get_priority_display()),
        Column(gettext_lazy("Opens a work order"), lambda m: m.opens_order),
        Column(gettext_lazy("Tell the customer"), lambda m: m.notify_customer),
        Column(gettext_lazy("Active"), lambda m: m.is_active),
    ],
    search=gettext_lazy("Code or description"),
    order=("code",),
    row_id="alarm-code",
    empty=gettext_lazy(
        "No alarm codes mapped yet. An alarm with an unmapped code is stored and shown, and opens nothing."
    ),
    empty_filtered=gettext_lazy("No alarm code matches."),
    export_name="alarm-codes",
    export_title=gettext_lazy("Alarm codes"),
)

RULES = Listing(
    columns=[
        Column(gettext_lazy("Name"), lambda r: r.name, link=lambda r: reverse("iot:rule_edit", args=[r.pk])),
        Column(gettext_lazy("Metric"), lambda r: r.metric),
        Column(gettext_lazy("Kind"), lambda r: r.get_kind_display()),
        Column(gettext_lazy("Value"), lambda r: r.value, default="—"),
        Column(gettext_lazy("For (minutes)"), lambda r: r.window_minutes),
        Column(
            gettext_lazy("Product model"), lambda r: str(r.product_model or ""), default=gettext_lazy("Every model")
        ),
        Column(gettext_lazy("Priority"), lambda r: r.get_priority_display()),
        Column(gettext_lazy("Tell the customer"), lambda r: r.notify_customer),
        Column(gettext_lazy("Active"), lambda r: r.is_active),
    ],
    search=gettext_lazy("Name or metric"),
    order=("name", "pk"),
    row_id="rule",
    empty=gettext_lazy("No threshold rules yet."),
    empty_filtered=gettext_lazy("No rule matches."),
    export_name="threshold-rules",
    export_title=gettext_lazy("Threshold rules"),
)


@login_required
def alarm_code_list(request):
    _admin(request)
    mappings = selectors.alarm_mappings_for(request.user)
    q = request.GET.get("q", "").strip()[:100]
    if q:
        mappings = mappings.filter(code__icontains=q) | mappings.filter(description__icontains=q)
    return ALARM_CODES.render(request, "iot/alarm_code_list.html", mappings)


def _save(request, form, write, success: str, target: str):
    if form.is_valid():
        try:
            obj = write(form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, success % {"name": str(obj)})
            return redirect(target)
    return None


def _mapping_values(data: dict) -> dict:
    values = dict(data)
    values["fault_category"] = data["fault_category"].pk if data.get("fault_category") else None
    return values


@login_required
def alarm_code_form(request, pk=None):
    _admin(request)
    mapping = selectors.get_alarm_mapping_for(request.user, pk) if pk is not None else None
    if request.method == "POST":
        form = AlarmMappingForm(request.POST)

        def write(data):
            if mapping is None:
                return services.create_alarm_mapping(actor=request.user, **_mapping_values(data))
            return services.update_alarm_mapping(mapping, actor=request.user, **_mapping_values(data))

        done = _save(request, form, write, _("Alarm code %(name)s saved."), "iot:alarm_codes")
        if done is not None:
            return done
    elif mapping is not None:
        form = AlarmMappingForm(
            initial={
                **{f: getattr(mapping, f) for f in services.MAPPING_FIELDS if f != "fault_category"},
                "fault_category": mapping.fault_category_id,
            }
        )
    else:
        form = AlarmMappingForm()
    title = mapping.code if mapping is not None else _("New alarm code")
    return render(
        request,
        "iot/rule_form.html",
        {
            "form": form,
            "title": title,
            "obj": mapping,
            "back": reverse("iot:alarm_codes"),
            "deactivate": reverse("iot:alarm_code_deactivate", args=[mapping.pk])
            if mapping and mapping.is_active
            else "",
        },
    )


@login_required
@require_POST
def alarm_code_deactivate(request, pk):
    _admin(request)
    mapping = selectors.get_alarm_mapping_for(request.user, pk)
    services.update_alarm_mapping(mapping, actor=request.user, is_active=False)
    messages.success(request, _("Alarm code %(name)s deactivated.") % {"name": mapping.code})
    return redirect("iot:alarm_codes")


@login_required
def rule_list(request):
    _admin(request)
    rules = selectors.threshold_rules_for(request.user)
    q = request.GET.get("q", "").strip()[:100]
    if q:
        rules = rules.filter(name__icontains=q) | rules.filter(metric__icontains=q)
    return RULES.render(request, "iot/rule_list.html", rules)


def _rule_values(data: dict) -> dict:
    values = dict(data)
    for name in ("product_model", "fault_category"):
        values[name] = data[name].pk if data.get(name) else None
    return values


@login_required
def rule_form(request, pk=None):
    _admin(request)
    rule = selectors.get_threshold_rule_for(request.user, pk) if pk is not None else None
    if request.method == "POST":
        form = ThresholdRuleForm(request.POST)

        def write(data):
            if rule is None:
                return services.create_threshold_rule(actor=request.user, **_rule_values(data))
            return services.update_threshold_rule(rule, actor=request.user, **_rule_values(data))

        done = _save(request, form, write, _("Rule %(name)s saved."), "iot:rules")
        if done is not None:
            return done
    elif rule is not None:
        initial = {f: getattr(rule, f) for f in services.RULE_FIELDS if f not in ("product_model", "fault_category")}
        form = ThresholdRuleForm(
            initial={**initial, "product_model": rule.product_model_id, "fault_category": rule.fault_category_id}
        )
    else:
        form = ThresholdRuleForm()
    title = rule.name if rule is not None else _("New threshold rule")
    return render(
        request,
        "iot/rule_form.html",
        {
            "form": form,
            "title": title,
            "obj": rule,
            "back": reverse("iot:rules"),
            "deactivate": reverse("iot:rule_deactivate", args=[rule.pk]) if rule and rule.is_active else "",
        },
    )


@login_required
@require_POST
def rule_deactivate(request, pk):
    _admin(request)
    rule = selectors.get_threshold_rule_for(request.user, pk)
    services.update_threshold_rule(rule, actor=request.user, is_active=False)
    messages.success(request, _("Rule %(name)s deactivated.") % {"name": rule.name})
    return redirect("iot:rules")


urlpatterns = [
    path("alarm-codes/", alarm_code_list, name="alarm_codes"),
    path("alarm-codes/new/", alarm_code_form, name="alarm_code_create"),
    path("alarm-codes/<int:pk>/", alarm_code_form, name="alarm_code_edit"),
    path("alarm-codes/<int:pk>/deactivate/", alarm_code_deactivate, name="alarm_code_deactivate"),
    path("rules/", rule_list, name="rules"),
    path("rules/new/", rule_form, name="rule_create"),
    path("rules/<int:pk>/", rule_form, name="rule_edit"),
    path("rules/<int:pk>/deactivate/", rule_deactivate, name="rule_deactivate"),
]
