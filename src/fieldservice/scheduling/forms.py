"""Forms of the scheduling pages. They only parse input; the services validate the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.assets.models import ProductModel
from fieldservice.scheduling.choices import AbsenceKind
from fieldservice.workorders.choices import ServiceType

# What <input type="datetime-local"> sends, with and without seconds.
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class LocalDateTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", LOCAL_FORMATS)
        super().__init__(**kwargs)


class VisitForm(forms.Form):
    planned_start = LocalDateTimeField(label=_("Planned start"))
    duration_minutes = forms.IntegerField(label=_("Estimated duration (minutes)"), min_value=1, max_value=24 * 60)
    window_start = LocalDateTimeField(label=_("Time window from"), required=False)
    window_end = LocalDateTimeField(label=_("Time window to"), required=False)
    is_pinned = forms.BooleanField(
        label=_("Pinned"), required=False, help_text=_("The optimiser must not move a pinned visit.")
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)


class AbsenceForm(forms.Form):
    engineer = forms.ModelChoiceField(label=_("Engineer"), queryset=None)
    kind = forms.ChoiceField(label=_("Kind"), choices=AbsenceKind.choices)
    starts_at = LocalDateTimeField(label=_("From"))
    ends_at = LocalDateTimeField(label=_("Until"))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, engineers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["engineer"].queryset = engineers


class AbsenceFilterForm(forms.Form):
    engineer = forms.ModelChoiceField(label=_("Engineer"), queryset=None, required=False)
    day = forms.DateField(label=_("On"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, engineers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["engineer"].queryset = engineers


class DurationForm(forms.Form):
    service_type = forms.ChoiceField(label=_("Service type"), choices=ServiceType.choices)
    product_model = forms.ModelChoiceField(
        label=_("Product model"),
        queryset=ProductModel.objects.order_by("code"),
        required=False,
        empty_label=_("Any model"),
    )
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=24 * 60)
