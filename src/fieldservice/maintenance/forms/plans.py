"""Forms of the plan pages: the plan, its parts, the filters of the lists and the calendar, a
meter reading."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.models import User
from fieldservice.assets.choices import OPERATING_HOURS
from fieldservice.assets.forms import DateInput
from fieldservice.assets.models import Equipment, ProductModel
from fieldservice.contracts.models import Contract
from fieldservice.core.choices import Priority
from fieldservice.field.models import JobTemplate
from fieldservice.inventory.models import Part
from fieldservice.maintenance.models import CalendarBase, MaintenancePlan, PlanScope
from fieldservice.maintenance.models.plans import PLAN_SERVICE_TYPES

PART_ROWS = 5


class PlanForm(forms.Form):
    """A plan. The service checks every rule and names the field it refuses; the form only parses."""

    name = forms.CharField(label=_("Name"), max_length=200)
    scope = forms.ChoiceField(label=_("Applies to"), choices=PlanScope.choices)
    equipment = forms.ModelChoiceField(
        label=_("Machine"),
        queryset=Equipment.objects.none(),
        required=False,
        widget=forms.NumberInput,
        help_text=_("The machine's id (one machine)."),
    )
    product_model = forms.ModelChoiceField(
        label=_("Product model"), queryset=ProductModel.objects.none(), required=False
    )
    contract = forms.ModelChoiceField(label=_("Contract"), queryset=Contract.objects.none(), required=False)
    interval_months = forms.IntegerField(label=_("Every (months)"), required=False)
    calendar_base = forms.ChoiceField(
        label=_("Counted"), choices=CalendarBase.choices, initial=CalendarBase.INSTALLATION
    )
    interval_hours = forms.IntegerField(label=_("Every (operating hours)"), required=False)
    meter = forms.CharField(label=_("Meter"), max_length=40, required=False, initial=OPERATING_HOURS)
    job_template = forms.ModelChoiceField(label=_("Job template"), queryset=JobTemplate.objects.none(), required=False)
    lead_days = forms.IntegerField(
        label=_("Lead days"), initial=14, help_text=_("Orders are opened this many days ahead.")
    )
    service_type = forms.ChoiceField(label=_("Service type"), choices=[(t.value, t.label) for t in PLAN_SERVICE_TYPES])
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    starts_on = forms.DateField(label=_("Start"), widget=DateInput())
    ends_on = forms.DateField(label=_("End"), required=False, widget=DateInput())
    notes = forms.CharField(label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["equipment"].queryset = Equipment.objects.all()
        self.fields["product_model"].queryset = ProductModel.objects.filter(is_active=True)
        self.fields["contract"].queryset = Contract.objects.filter(maintenance_visits_per_year__isnull=False)
        self.fields["job_template"].queryset = JobTemplate.objects.all()
        self.fields["owner"].queryset = User.objects.filter(is_active=True, organisation__kind="own")
        for index in range(PART_ROWS):
            self.fields[f"part_{index}"] = forms.ModelChoiceField(
                label=_("Part"), queryset=Part.objects.filter(is_active=True), required=False
            )
            self.fields[f"quantity_{index}"] = forms.DecimalField(
                label=_("Quantity"), required=False, max_digits=10, decimal_places=3
            )

    def plan_values(self) -> dict:
        data = dict(self.cleaned_data)
        for index in range(PART_ROWS):
            data.pop(f"part_{index}", None)
            data.pop(f"quantity_{index}", None)
        return data

    def parts(self) -> list:
        rows = []
        for index in range(PART_ROWS):
            part = self.cleaned_data.get(f"part_{index}")
            if part is not None:
                rows.append((part, self.cleaned_data.get(f"quantity_{index}") or 1))
        return rows

    @classmethod
    def initial_of(cls, plan: MaintenancePlan) -> dict:
        initial = {name: getattr(plan, name) for name in cls.base_fields}
        for index, row in enumerate(plan.parts.select_related("part")[:PART_ROWS]):
            initial[f"part_{index}"] = row.part
            initial[f"quantity_{index}"] = row.quantity
        return initial


class PlanFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    scope = forms.ChoiceField(label=_("Applies to"), required=False, choices=[("", _("Any")), *PlanScope.choices])
    active = forms.ChoiceField(
        label=_("Active"), required=False, choices=[("", _("Any")), ("yes", _("Active")), ("no", _("Inactive"))]
    )


class DueFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    start = forms.DateField(label=_("From"), required=False, widget=DateInput())
    end = forms.DateField(label=_("Until"), required=False, widget=DateInput())
    area = forms.CharField(label=_("Area (city or province)"), required=False, max_length=50)
    engineer = forms.IntegerField(label=_("Engineer (id)"), required=False, min_value=1)


class ReadingForm(forms.Form):
    value = forms.DecimalField(label=_("Reading"), max_digits=14, decimal_places=2)
    meter = forms.CharField(label=_("Meter"), max_length=40, initial=OPERATING_HOURS)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class PublicReadingForm(forms.Form):
    value = forms.DecimalField(label=_("Operating hours shown on the machine"), max_digits=14, decimal_places=2)
