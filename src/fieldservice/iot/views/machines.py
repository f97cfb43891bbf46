"""Pages of machine data: a machine's live state and chart (/iot/machines/<id>/), the overview of
connected machines with its tabs (/iot/machines/), the offline machines (/iot/offline/) and the
forecast (/iot/forecast/) with "open a maintenance order"; the panels on the equipment page
(slot "assets.equipment") and on the engineer's phone order page (slot "field.order")."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from fieldservice.core.errors import DomainError, require
from fieldservice.core.listing import Column, Listing
from fieldservice.customers.models import Customer
from fieldservice.iot.chart import DESKTOP, PHONE, render_chart
from fieldservice.iot.choices import RuleKind
from fieldservice.iot.machine_forms import ChartForm, OfflineFilterForm
from fieldservice.iot.models import ThresholdRule
from fieldservice.iot.permissions import may_view_machine_data
from fieldservice.iot.selectors import machines as selectors
from fieldservice.iot.services import forecast as forecasting


def _silent_for(machine) -> str:
    from django.utils.timesince import timesince

    return timesince(machine.last_seen_at, timezone.now()) if machine.last_seen_at else ""


OFFLINE = Listing(
    columns=[
        Column(
            gettext_lazy("Machine"),
            lambda m: f"{m.product_model.code} #{m.serial_number}",
            link=lambda m: reverse("iot:machine", args=[m.pk]),
        ),
        Column(gettext_lazy("Customer"), lambda m: m.customer.name),
        Column(gettext_lazy("Site"), lambda m: m.site.name if m.site_id else "", default="—"),
        Column(gettext_lazy("Area"), lambda m: (m.site.city or m.site.province) if m.site_id else "", default="—"),
        Column(gettext_lazy("Last seen"), lambda m: m.last_seen_at, date="Y-m-d H:i"),
        Column(gettext_lazy("Silent for"), _silent_for),
        Column(gettext_lazy("Expected every (minutes)"), lambda m: round(m.expected_seconds / 60, 1)),
    ],
    filter_form=OfflineFilterForm,
    search=gettext_lazy("Serial, model, customer, site or city"),
    empty=gettext_lazy("No machine is offline: every connected machine reported within its expected interval."),
    empty_filtered=gettext_lazy("No offline machine matches these filters."),
    export_name="offline-machines",
    export_title=gettext_lazy("Offline machines"),
)


PHONE_PERIOD = dt.timedelta(hours=24)


def _view(user) -> None:
    require(may_view_machine_data(user))


def _tabs(active: str, user) -> list[dict]:
    tabs = [
        ("overview", _("Overview"), reverse("iot:machines_overview")),
        ("offline", pgettext("machine state", "Offline"), reverse("iot:offline")),
        ("forecast", _("Forecast"), reverse("iot:forecast")),
    ]
    return [{"key": key, "label": label, "url": url, "active": key == active} for key, label, url in tabs]


@login_required
def overview(request):
    _view(request.user)
    now = timezone.now()
    counts = selectors.connection_counts(request.user, now=now)
    offline = list(selectors.offline_machines_for(request.user, now=now)[:10])
    return render(
        request,
        "iot/machines_overview.html",
        {"counts": counts, "offline": offline, "tabs": _tabs("overview", request.user)},
    )


@login_required
def offline_list(request):
    _view(request.user)
    visible_customers = Customer.objects.filter(
        pk__in=selectors.connected_machines_for(request.user).values("customer_id")
    ).order_by("name")
    filters = OFFLINE.filters(request, customers=visible_customers)
    values = filters.cleaned_data if filters is not None and filters.is_valid() else {}
    machines = selectors.filter_offline(
        selectors.offline_machines_for(request.user),
        text=request.GET.get("q", "")[:100],
        customer=values.get("customer"),
    )
    return OFFLINE.render(
        request,
        "iot/offline_list.html",
        machines,
        filters=filters,
        context={"tabs": _tabs("offline", request.user)},
    )


def _thresholds(equipment, metric: str) -> list[tuple[str, float]]:
    """The "above" and "below" rules of the metric for this machine, drawn on its chart."""
    rules = ThresholdRule.objects.filter(
        Q(product_model__isnull=True) | Q(product_model_id=equipment.product_model_id),
        is_active=True,
        metric=metric,
        kind__in=[RuleKind.ABOVE, RuleKind.BELOW],
        value__isnull=False,
    ).order_by("pk")[:4]
    return [("≥" if rule.kind == RuleKind.ABOVE else "≤", float(rule.value)) for rule in rules]


def _chart(request, state, metric: str, start, end, period_label: str, layout=DESKTOP) -> str:
    """The chart of the machine's `metric` over [start, end), with its alarms and the orders the
    user may see on the same time line."""
    equipment = state.equipment
    return render_chart(
        machine_label=f"{equipment.product_model.code} #{equipment.serial_number}",
        metric=metric,
        unit=next((v.unit for v in state.latest if v.metric == metric), ""),
        buckets=selectors.readings_series(equipment, metric, start, end),
        start=start,
        end=end,
        alarms=selectors.alarms_between(equipment, start, end)[:200],
        orders=selectors.orders_between(request.user, equipment, start, end)[:100],
        thresholds=_thresholds(equipment, metric),
        period_label=period_label,
        layout=layout,
    )


@login_required
def machine_detail(request, pk):
    equipment = selectors.get_machine_for(request.user, pk)
    now = timezone.now()
    state = selectors.live_state(equipment, now=now)
    metrics = selectors.metrics_of(equipment)
    form = ChartForm(request.GET or None, metrics=metrics)
    chart = ""
    metric = ""
    if metrics and (not form.is_bound or form.is_valid()):
        metric = (form.cleaned_data.get("metric") if form.is_bound else "") or metrics[0]
        start, end, period_label = form.window(now)
        chart = _chart(request, state, metric, start, end, period_label)
    return render(
        request,
        "iot/machine_detail.html",
        {
            "equipment": equipment,
            "state": state,
            "form": form,
            "metrics": metrics,
            "metric": metric,
            "chart": chart,
            "may_see_equipment_page": True,
        },
    )


@login_required
def forecast_list(request):
    _view(request.user)
    try:
        horizon = min(max(int(request.GET.get("horizon", forecasting.HORIZON_DAYS)), 1), 365)
    except ValueError:
        horizon = forecasting.HORIZON_DAYS
    rows = forecasting.predictions_for(request.user, horizon_days=horizon)
    return render(
        request,
        "iot/forecast_list.html",
        {
            "rows": rows,
            "horizon": horizon,
            "may_order": forecasting.may_order_from_forecast(request.user),
            "tabs": _tabs("forecast", request.user),
            "lookback": forecasting.LOOKBACK_DAYS,
            "min_r2": forecasting.MIN_R2,
        },
    )


@login_required
@require_POST
def forecast_order(request, pk):
    equipment = selectors.get_machine_for(request.user, pk)
    metric = request.POST.get("metric", "")[:40]
    try:
        order = forecasting.order_from_prediction(equipment, metric, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Maintenance order %(number)s opened, planned for %(date)s.")
            % {"number": order.number, "date": f"{order.planned_for:%Y-%m-%d}"},
        )
    return redirect("iot:forecast")


# --- panels of lower apps' pages ---


def machine_panel(request, equipment) -> str:
    """The equipment page's panel (slot "assets.equipment"): live state, link to the chart."""
    user = request.user
    if not getattr(user, "is_authenticated", False) or not selectors.may_see_machine(user, equipment):
        return ""
    state = selectors.live_state(equipment)
    if not state.connected and not state.latest:
        return ""
    return render_to_string("iot/_machine_panel.html", {"state": state, "equipment": equipment}, request=request)


def phone_panel(request, order) -> str:
    """The engineer's phone order page (slot "field.order"): the last readings of the machine and
    the chart of one metric over the last 24 hours, drawn for the phone's width (`?iot_metric=`
    picks the metric; the first one otherwise)."""
    user = request.user
    equipment = getattr(order, "equipment", None)
    if equipment is None or not getattr(user, "is_authenticated", False):
        return ""
    try:
        equipment = selectors.get_machine_for(user, equipment.pk)
    except Http404:
        return ""
    now = timezone.now()
    state = selectors.live_state(equipment, now=now)
    if not state.connected and not state.latest:
        return ""
    metrics = [value.metric for value in state.latest]
    metric = request.GET.get("iot_metric", "")
    metric = metric if metric in metrics else (metrics[0] if metrics else "")
    chart = _chart(request, state, metric, now - PHONE_PERIOD, now, _("Last 24 hours"), PHONE) if metric else ""
    return render_to_string(
        "iot/_phone_panel.html",
        {"state": state, "equipment": equipment, "metrics": metrics, "metric": metric, "chart": chart},
        request=request,
    )


urlpatterns = [
    path("machines/", overview, name="machines_overview"),
    path("machines/<int:pk>/", machine_detail, name="machine"),
    path("machines/<int:pk>/forecast-order/", forecast_order, name="forecast_order"),
    path("offline/", offline_list, name="offline"),
    path("forecast/", forecast_list, name="forecast"),
]
