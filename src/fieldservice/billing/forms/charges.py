"""Forms of the billing pages. Amounts are text: the services parse them (core.money), so a
page and the API refuse the same input with the same words."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.billing.choices import BillStatus, PaymentMethod
from fieldservice.billing.forms.margins import DateInput
from fieldservice.customers.models import Customer


class BillFilterForm(forms.Form):
    q = forms.CharField(required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *BillStatus.choices]
    )
    customer = forms.ModelChoiceField(
        label=_("Customer"), required=False, queryset=Customer.objects.none(), empty_label=_("All customers")
    )

    def __init__(self, *args, customers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if customers is not None:
            self.fields["customer"].queryset = customers

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"status": data.get("status") or "", "customer": data.get("customer")}


class ReceivablesFilterForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=_("Customer"), required=False, queryset=Customer.objects.none(), empty_label=_("All customers")
    )

    def __init__(self, *args, customers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if customers is not None:
            self.fields["customer"].queryset = customers

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        customer = self.cleaned_data.get("customer")
        return {"customer_id": customer.pk if customer else None}


class IssueForm(forms.Form):
    due_on = forms.DateField(
        label=_("Due date"),
        required=False,
        help_text=_("Empty: 30 days from today."),
        widget=DateInput(),
    )


class PaymentForm(forms.Form):
    amount = forms.CharField(label=_("Amount"), max_length=20)
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    reference = forms.CharField(label=_("Reference"), required=False, max_length=64)
    paid_at = forms.DateTimeField(
        label=_("Paid at"),
        required=False,
        help_text=_("Empty: now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class WriteOffForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class InvoiceIssueForm(forms.Form):
    invoice_number = forms.CharField(label=_("Invoice number"), max_length=40)


class InvoiceRejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class InvoiceRequestForm(forms.Form):
    """The customer's request for a tax invoice (开票申请)."""

    title = forms.CharField(label=_("Invoice title"), max_length=200, help_text=_("The company's registered name."))
    tax_number = forms.CharField(
        label=_("Tax number"),
        max_length=30,
        help_text=_("The unified social credit code (18 characters) or tax registration number."),
    )
    address_phone = forms.CharField(label=_("Address and phone"), max_length=300, required=False)
    bank_account = forms.CharField(label=_("Bank and account"), max_length=300, required=False)
    email = forms.CharField(label=_("E-mail for the invoice"), max_length=254, required=False)
