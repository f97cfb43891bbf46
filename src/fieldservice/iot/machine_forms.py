"""Forms of the machine data pages: the chart's metric and period, the offline list's filters."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.assets.forms import DateInput
from fieldservice.customers.models import Customer
from fieldservice.iot.metrics import metric_label
from fieldservice.iot.selectors.machines import MAX_PERIOD_DAYS

PERIODS = {"24h": dt.timedelta(hours=24), "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}
MAX_CUSTOM_DAYS = MAX_PERIOD_DAYS


class ChartForm(forms.Form):
    metric = forms.ChoiceField(label=_("Metric"), required=False)
    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[
            ("24h", _("Last 24 hours")),
            ("7d", _("Last 7 days")),
            ("30d", _("Last 30 days")),
            ("custom", _("Chosen dates")),
        ],
    )
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("Until"), required=False, widget=DateInput())

    def __init__(self, *args, metrics=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = [(m, metric_label(m)) for m in metrics]

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None:
                self.add_error("start", _("Choose the first day."))
            if end is None:
                self.add_error("end", _("Choose the last day."))
            if start and end and end < start:
                self.add_error("end", _("The last day cannot be before the first."))
            elif start and end and (end - start).days >= MAX_CUSTOM_DAYS:
                self.add_error("end", _("Choose at most a year."))
        return data

    def window(self, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime, str]:
        """The period chosen (the last 24 hours unless valid data says otherwise) and its label."""
        now = now or timezone.now()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        period = data.get("period") or "24h"
        if period == "custom":
            zone = timezone.get_current_timezone()
            start = dt.datetime.combine(data["start"], dt.time.min, tzinfo=zone)
            end = dt.datetime.combine(data["end"] + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
            return start, end, f"{data['start']:%Y-%m-%d} – {data['end']:%Y-%m-%d}"
        label = dict(self.fields["period"].choices)[period]
        return now - PERIODS[period], now, str(label)


class OfflineFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none(), required=False)

    def __init__(self, *args, customers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers if customers is not None else Customer.objects.none()
