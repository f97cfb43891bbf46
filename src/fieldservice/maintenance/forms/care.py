"""Forms of the customer-care pages: the plan's filters, the plan, invalidating, a task's outcome."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.core.money import DEFAULT_CURRENCY
from fieldservice.customers.choices import CustomerKind, CustomerTier
from fieldservice.maintenance.models.care import (
    BODY_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    CareMethod,
    CareOccasion,
    CareOutcome,
    CarePlanStatus,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class CarePlanFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *CarePlanStatus.choices]
    )
    method = forms.ChoiceField(label=_("Method"), required=False, choices=[("", _("Any method")), *CareMethod.choices])
    occasion = forms.ChoiceField(
        label=_("Occasion"), required=False, choices=[("", _("Any occasion")), *CareOccasion.choices]
    )


class CarePlanForm(forms.Form):
    """A care plan. The chosen customers are written as their customer codes; the preview renders
    the text for one customer (by code) without saving."""

    name = forms.CharField(label=_("Name"), max_length=200)
    occasion = forms.ChoiceField(label=_("Occasion"), choices=CareOccasion.choices)
    occasion_note = forms.CharField(label=_("Occasion in your words"), max_length=200, required=False)
    method = forms.ChoiceField(label=_("Method"), choices=[("", "—"), *CareMethod.choices], required=False)
    target_tiers = forms.MultipleChoiceField(
        label=_("Customer tiers"), choices=CustomerTier.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    target_kinds = forms.MultipleChoiceField(
        label=_("Customer kinds"), choices=CustomerKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    target_industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    chosen = forms.BooleanField(label=_("Only the customers chosen below"), required=False)
    customer_codes = forms.CharField(
        label=_("Chosen customers (customer codes)"),
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One or more customer codes, separated by spaces, commas or lines."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX_LENGTH, required=False)
    body = forms.CharField(
        label=_("Text"),
        max_length=BODY_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Placeholders: {{ customer }}, {{ customer_code }}, {{ contact }}, {{ company }}, {{ occasion }}, "
            "{{ plan }}, {{ date }}."
        ),
    )
    participants = forms.ModelMultipleChoiceField(
        label=_("People taking part"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial=DEFAULT_CURRENCY)
    budget = forms.CharField(label=_("Budget"), max_length=20, required=False)
    actual_cost = forms.CharField(label=_("Actual cost"), max_length=20, required=False)
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput())
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput(), required=False)
    effect_days = forms.IntegerField(label=_("Effect window (days)"), min_value=1, max_value=365, initial=30)
    preview_customer = forms.CharField(label=_("Preview for the customer (code)"), max_length=32, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participants"].queryset = User.objects.filter(
            is_active=True, organisation__kind=OrganisationKind.OWN
        ).order_by("username")

    @staticmethod
    def codes(text: str) -> list[str]:
        return [code for code in text.replace(",", " ").replace("，", " ").split() if code]


class CareInvalidateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class CareOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CareOutcome.choices)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
