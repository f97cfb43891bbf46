"""Forms of the settlement pages. Status fields are never form fields: changes are the services' verbs."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.billing import selectors
from fieldservice.billing.choices import PartyKind, SettlementBasis, StatementStatus
from fieldservice.billing.forms.margins import DateInput
from fieldservice.billing.models import SettlementRule, Statement, StatementLine
from fieldservice.core.choices import ServiceType

__all__ = [
    "AdjustmentForm",
    "CorrectForm",
    "DisputeForm",
    "GenerateForm",
    "RuleForm",
    "SettleForm",
    "StatementFilterForm",
]


class StatementFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *StatementStatus.choices]
    )
    party_kind = forms.ChoiceField(
        label=_("Party"), required=False, choices=[("", _("Engineers and providers")), *PartyKind.choices]
    )
    provider = forms.ModelChoiceField(
        label=_("Service provider"), required=False, queryset=None, empty_label=_("All providers")
    )
    period_from = forms.DateField(label=_("Period from"), required=False, widget=DateInput)
    period_to = forms.DateField(label=_("Period to"), required=False, widget=DateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = selectors.providers()

    def filters(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "status": data.get("status") or "",
            "party_kind": data.get("party_kind") or "",
            "provider": data["provider"].pk if data.get("provider") else None,
            "period_from": data.get("period_from"),
            "period_to": data.get("period_to"),
        }


class GenerateForm(forms.Form):
    period_start = forms.DateField(label=_("From"), widget=DateInput)
    period_end = forms.DateField(label=_("To"), widget=DateInput)


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for dispute"), max_length=StatementLine._meta.get_field("dispute_reason").max_length
    )


class CorrectForm(forms.Form):
    amount = forms.CharField(label=_("Corrected amount"), max_length=20)
    reason = forms.CharField(
        label=_("Reason for correction"), max_length=StatementLine._meta.get_field("correction_reason").max_length
    )


class SettleForm(forms.Form):
    payment_reference = forms.CharField(
        label=_("Payment reference"), max_length=Statement._meta.get_field("payment_reference").max_length
    )


class AdjustmentForm(forms.Form):
    amount = forms.CharField(
        label=_("Adjustment"), max_length=20, help_text=_("Negative when the party was paid too much.")
    )
    reason = forms.CharField(label=_("Reason"), max_length=StatementLine._meta.get_field("description").max_length)


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=SettlementRule._meta.get_field("name").max_length)
    basis = forms.ChoiceField(label=_("Basis"), choices=SettlementBasis.choices)
    rate = forms.CharField(
        label=_("Rate"), max_length=20, help_text=_("An amount, or a percentage for the share and handling-fee bases.")
    )
    threshold = forms.CharField(
        label=_("Rating threshold"), required=False, max_length=4, help_text=_("1–5, for the rating bases.")
    )
    service_type = forms.ChoiceField(
        label=_("Service type"), required=False, choices=[("", _("Any service type")), *ServiceType.choices]
    )
    provider = forms.ModelChoiceField(
        label=_("Service provider"), required=False, queryset=None, empty_label=_("— (our engineers)")
    )
    team = forms.ModelChoiceField(label=_("Engineer team"), required=False, queryset=None, empty_label=_("— (any)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = selectors.providers()
        self.fields["team"].queryset = selectors.teams()

    @classmethod
    def initial_of(cls, rule: SettlementRule) -> dict:
        return {
            "name": rule.name,
            "basis": rule.basis,
            "rate": rule.rate,
            "threshold": rule.threshold if rule.threshold is not None else "",
            "service_type": rule.service_type,
            "provider": rule.provider_id,
            "team": rule.team_id,
        }
