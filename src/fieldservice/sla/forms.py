"""Forms parse input for the views; the services decide what is allowed."""

import datetime as dt
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.customers.choices import CustomerTier
from fieldservice.sla.choices import HolidayKind, NotifyRole, OverdueState, TargetKind, Weekday
from fieldservice.sla.models import BusinessCalendar
from fieldservice.sla.services.calendars import hours_text, weekday_field
from fieldservice.sla.services.policies import target_field
from fieldservice.workorders.choices import Priority

PERIOD = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–~]\s*(\d{1,2}:\d{2})\s*$")


def parse_periods(text: str) -> list[tuple[dt.time, dt.time]]:
    """ "09:00-12:00, 13:00-18:00" -> [(09:00, 12:00), (13:00, 18:00)]."""
    periods = []
    for part in re.split(r"[,，;；\n]+", text or ""):
        if not part.strip():
            continue
        match = PERIOD.match(part)
        try:
            if not match:
                raise ValueError(part)
            periods.append((dt.time.fromisoformat(match[1].zfill(5)), dt.time.fromisoformat(match[2].zfill(5))))
        except ValueError:
            raise forms.ValidationError(
                _("Write periods as 09:00-12:00, 13:00-18:00 (“%(part)s” is not one).") % {"part": part.strip()},
                code="invalid",
            ) from None
    return periods


class PeriodsField(forms.CharField):
    """One weekday's working periods, typed as text."""

    def clean(self, value):
        return parse_periods(super().clean(value))


class CalendarForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    time_zone = forms.CharField(
        label=_("Time zone"), max_length=64, initial="Asia/Shanghai", help_text=_("An IANA name, e.g. Asia/Shanghai.")
    )
    is_default = forms.BooleanField(
        label=_("Default calendar"), required=False, help_text=_("Used where nothing else is set.")
    )

    def __init__(self, *args, calendar: BusinessCalendar | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        hours = {}
        if calendar is not None:
            for period in calendar.periods.all():
                hours.setdefault(period.weekday, []).append((period.starts_at, period.ends_at))
        for weekday in Weekday:
            name = weekday_field(weekday)
            self.fields[name] = PeriodsField(
                label=weekday.label,
                required=False,
                max_length=200,
                initial=hours_text(sorted(hours.get(weekday.value, []))),
                help_text=_("e.g. 09:00-12:00, 13:00-18:00; empty: no work that day.")
                if weekday == Weekday.MONDAY
                else "",
            )

    def weekday_fields(self):
        return [self[weekday_field(weekday)] for weekday in Weekday]

    def hours(self) -> dict[int, list]:
        return {weekday.value: self.cleaned_data[weekday_field(weekday)] for weekday in Weekday}


class HolidayForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("Kind"), choices=HolidayKind.choices, initial=HolidayKind.HOLIDAY)
    name = forms.CharField(label=_("Name"), max_length=100)


class LoadHolidaysForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), coerce=int, choices=())

    def __init__(self, *args, years: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(year, str(year)) for year in years]
        if years:
            self.fields["year"].initial = years[-1]


class PolicyForm(forms.Form):
    code = forms.SlugField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)
    calendar = forms.ModelChoiceField(label=_("Business calendar"), queryset=BusinessCalendar.objects.none())
    customer_tier = forms.ChoiceField(
        label=_("For customer tier"),
        required=False,
        choices=[("", _("None")), *CustomerTier.choices],
        help_text=_("Orders of customers of this tier without a contract get this policy."),
    )
    is_default = forms.BooleanField(label=_("Default policy"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["calendar"].queryset = BusinessCalendar.objects.order_by("name")
        for priority in Priority:
            for kind in TargetKind:
                self.fields[target_field(priority, kind)] = forms.IntegerField(
                    label=f"{priority.label} · {kind.label}",
                    required=False,
                    min_value=1,
                    widget=forms.NumberInput(attrs={"class": "narrow", "min": 1}),
                )

    def main_fields(self):
        return [self[name] for name in ("code", "name", "calendar", "customer_tier", "is_default", "is_active")] + [
            self["description"]
        ]

    def target_rows(self):
        """[(priority label, [bound field per target])] for the targets table."""
        return [(priority.label, [self[target_field(priority, kind)] for kind in TargetKind]) for priority in Priority]

    def targets(self) -> dict:
        return {
            priority.value: {kind.value: self.cleaned_data.get(target_field(priority, kind)) for kind in TargetKind}
            for priority in Priority
        }

    def policy_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("code", "name", "calendar", "customer_tier")} | {
            name: self.cleaned_data[name] for name in ("is_default", "is_active", "description")
        }


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    target = forms.ChoiceField(
        label=_("Target"), required=False, choices=[("", _("Every target")), *TargetKind.choices]
    )
    after_minutes = forms.IntegerField(
        label=_("After (business minutes)"),
        required=False,
        help_text=_("Fires this many business minutes after the clock started. Fill this or the percentage."),
    )
    percent_used = forms.IntegerField(
        label=_("At percent used"),
        required=False,
        help_text=_("Fires when this share of the target is used; 100 means breached."),
    )
    priorities = forms.MultipleChoiceField(
        label=_("Priorities"),
        required=False,
        choices=Priority.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every priority."),
    )
    notify = forms.ChoiceField(label=_("Notify"), choices=NotifyRole.choices)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    position = forms.IntegerField(label=_("Position"), required=False, initial=0, min_value=0)


class OverdueFilterForm(forms.Form):
    """The overdue list's filters. An invalid value is ignored rather than failing the page."""

    target = forms.ChoiceField(label=_("Target"), required=False, choices=[("", _("All targets")), *TargetKind.choices])
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("At risk or breached")), *OverdueState.choices]
    )

    def filters(self) -> dict:
        self.is_valid()
        return {name: self.cleaned_data.get(name) or "" for name in ("target", "state") if name in self.cleaned_data}
