"""Forms of billing: they parse input for the views; the services and selectors decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.billing.selectors import margin_engineers_for
from fieldservice.contracts.choices import ContractStatus
from fieldservice.contracts.selectors import contracts_for
from fieldservice.customers.selectors import customers_for


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


# --- cost and margin ---


class MarginPeriodForm(forms.Form):
    """The filters of the cost and margin lists (GET): a search and the days orders count on.
    A value that does not parse is left out rather than failing the page."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor

    def filters(self) -> dict:
        """The valid filters (not the search), by the selectors' names; ids for the choices."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = {}
        for name in self.fields:
            if name == "q" or name not in self.cleaned_data or self.cleaned_data[name] in (None, ""):
                continue
            value = self.cleaned_data[name]
            data[name] = getattr(value, "pk", value)
        return data


class OrderMarginFilterForm(MarginPeriodForm):
    customer = forms.ModelChoiceField(
        label=_("Customer"), required=False, queryset=None, empty_label=_("All customers")
    )
    contract = forms.ModelChoiceField(
        label=_("Contract"), required=False, queryset=None, empty_label=_("All contracts")
    )
    engineer = forms.ModelChoiceField(
        label=_("Engineer"), required=False, queryset=None, empty_label=_("All engineers")
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, actor=actor, **kwargs)
        self.fields["customer"].queryset = customers_for(actor).order_by("name", "pk")
        self.fields["contract"].queryset = (
            contracts_for(actor).exclude(status=ContractStatus.DRAFT).order_by("-starts_on", "number")
        )
        self.fields["engineer"].queryset = margin_engineers_for(actor).order_by("username")
