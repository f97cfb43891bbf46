"""The alarm list: open and recent alarms of the machines the user may see, with the order each
opened or joined."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.urls import path, reverse
from django.utils.translation import gettext_lazy

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.core.listing import Column, Listing
from fieldservice.customers.selectors import customers_for
from fieldservice.iot.choices import Severity
from fieldservice.iot.forms.rules import AlarmFilterForm
from fieldservice.iot.permissions import may_view_machine_data
from fieldservice.iot.selectors import alarms as selectors

SEVERITY_BADGES = {Severity.INFO: "", Severity.WARNING: "warn", Severity.CRITICAL: "bad"}


def _machine(alarm) -> str:
    machine = alarm.equipment
    return (
        f"{machine.product_model.code} {machine.serial_number}" if machine.product_model_id else machine.serial_number
    )


ALARMS = Listing(
    columns=[
        Column(gettext_lazy("Machine"), _machine),
        Column(gettext_lazy("Customer"), lambda a: a.equipment.customer.name),
        Column(gettext_lazy("Alarm code"), lambda a: f"{a.code} · {a.described}" if a.described else a.code),
        Column(
            gettext_lazy("Severity"),
            lambda a: a.get_severity_display(),
            badge=lambda a: SEVERITY_BADGES.get(a.severity, ""),
        ),
        Column(gettext_lazy("Message"), lambda a: a.message, default="—"),
        Column(gettext_lazy("Raised"), lambda a: a.raised_at, date="SHORT_DATETIME_FORMAT"),
        Column(gettext_lazy("Cleared"), lambda a: a.cleared_at, date="SHORT_DATETIME_FORMAT", default="—"),
        Column(gettext_lazy("Raised again"), lambda a: a.repeats),
        Column(
            gettext_lazy("Work order"),
            lambda a: a.work_order.number if a.work_order_id else "",
            link=lambda a: reverse("workorders:order_detail", args=[a.work_order_id]) if a.work_order_id else None,
            default="—",
        ),
    ],
    filter_form=AlarmFilterForm,
    search=gettext_lazy("Code, serial number or message"),
    order=("-raised_at", "-pk"),
    row_id="alarm",
    empty=gettext_lazy("No alarms from your machines."),
    empty_filtered=gettext_lazy("No alarm matches these filters."),
    export_name="machine-alarms",
    export_title=gettext_lazy("Machine alarms"),
)


@login_required
def alarm_list(request):
    if not may_view_machine_data(request.user):
        raise Http404
    is_customer = request.user.organisation_kind == OrganisationKind.CUSTOMER
    filters = ALARMS.filters(request, customers=None if is_customer else customers_for(request.user).order_by("name"))
    data = filters.cleaned_data if filters is not None and filters.is_valid() else {}
    alarms = selectors.filter_alarms(
        selectors.alarms_for(request.user),
        open_only=bool(data.get("open_only")),
        severity=data.get("severity") or "",
        customer=data["customer"].pk if data.get("customer") else None,
        q=request.GET.get("q", "")[:100],
    )
    return ALARMS.render(request, "iot/alarm_list.html", alarms, filters=filters)


urlpatterns = [path("alarms/", alarm_list, name="alarms")]
