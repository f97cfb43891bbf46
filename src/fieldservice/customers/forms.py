"""Forms for customer pages. They only parse input; the services validate and save."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.selectors import providers_for, users_for
from fieldservice.customers.choices import CustomerKind, CustomerTier
from fieldservice.customers.selectors import contacts_for


class CustomerFilterForm(forms.Form):
    """The search box and filters above the customer list (GET)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=[("", _("All tiers")), *CustomerTier.choices])
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *CustomerKind.choices])
    service_provider = forms.ModelChoiceField(
        label=_("Service provider"), required=False, queryset=None, empty_label=_("All service providers")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_provider"].queryset = providers_for(user)
        if not self.fields["service_provider"].queryset.exists():
            # Nobody to choose between: the list shows no provider filter.
            del self.fields["service_provider"]

    def filter(self, customers):
        """Apply the filters that parsed; a tampered value is ignored rather than failing the page."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("tier"):
            customers = customers.filter(tier=data["tier"])
        if data.get("kind"):
            customers = customers.filter(kind=data["kind"])
        if data.get("service_provider"):
            customers = customers.filter(service_provider=data["service_provider"])
        return customers


class CustomerForm(forms.Form):
    code = forms.CharField(
        label=_("Customer code"),
        required=False,
        max_length=32,
        help_text=_("Leave blank to number the customer automatically."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=CustomerKind.choices, initial=CustomerKind.COMPANY)
    tier = forms.ChoiceField(label=_("Tier"), choices=CustomerTier.choices, initial=CustomerTier.STANDARD)
    industry = forms.CharField(label=_("Industry"), required=False, max_length=100)
    service_provider = forms.ModelChoiceField(
        label=_("Service provider"),
        required=False,
        queryset=None,
        help_text=_("The partner that serves this customer, if any."),
    )
    account_owner = forms.ModelChoiceField(label=_("Account owner"), required=False, queryset=None)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, user, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_provider"].queryset = providers_for(user)
        self.fields["account_owner"].queryset = users_for(user).filter(
            organisation__kind=OrganisationKind.OWN, is_active=True
        )
        if editing:
            # The code identifies the customer in other systems and on paper; it is fixed once given.
            del self.fields["code"]
        else:
            del self.fields["is_active"]


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    title = forms.CharField(label=_("Job title"), required=False, max_length=100)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_("Chinese numbers may omit +86; others need their country code."),
    )
    # A plain text field so the service's message about a bad address is the one people see.
    email = forms.CharField(
        label=_("E-mail"), required=False, max_length=254, widget=forms.TextInput(attrs={"autocomplete": "email"})
    )
    wechat_id = forms.CharField(label=_("WeChat ID"), required=False, max_length=64)
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)


class SiteForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=300)
    province = forms.CharField(label=_("Province"), required=False, max_length=50)
    city = forms.CharField(label=_("City"), required=False, max_length=50)
    district = forms.CharField(label=_("District"), required=False, max_length=50)
    # Text, not DecimalField: the service checks range and pairing and names the field.
    latitude = forms.CharField(
        label=_("Latitude"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("Decimal degrees, e.g. 29.868336. Give both coordinates or neither."),
    )
    longitude = forms.CharField(
        label=_("Longitude"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("Decimal degrees, e.g. 121.543990."),
    )
    contact = forms.ModelChoiceField(label=_("Site contact"), required=False, queryset=None)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, user, customer, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts_for(user).filter(customer=customer)
        if not editing:
            del self.fields["is_active"]
