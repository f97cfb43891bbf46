"""Forms of the device pages: the list's filters, issuing a device (customer first, then its
machines), changing one."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.customers.models import Customer
from fieldservice.iot.choices import DeviceKind, Door, RejectReason


class DeviceFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    customer = forms.ModelChoiceField(
        label=_("Customer"), required=False, queryset=Customer.objects.order_by("name"), empty_label=_("Any customer")
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any kind")), *DeviceKind.choices])
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("Active and revoked")), ("active", _("Active")), ("revoked", _("Revoked"))],
    )


class DeviceCustomerForm(forms.Form):
    """The first step of issuing a device: whose machines it reports for."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.order_by("name"))


class DeviceForm(forms.Form):
    """A device of one customer: its machines are chosen among that customer's registered ones."""

    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=DeviceKind.choices, initial=DeviceKind.MACHINE)
    machines = forms.ModelMultipleChoiceField(
        label=_("Machines"), queryset=None, widget=forms.CheckboxSelectMultiple, required=False
    )
    expected_interval_seconds = forms.IntegerField(
        label=_("Reports at least every (seconds)"),
        initial=300,
        min_value=10,
        max_value=7 * 24 * 3600,
        help_text=_("A machine silent for longer than this is listed as offline."),
    )

    def __init__(self, *args, machines, with_kind: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["machines"].queryset = machines
        if not with_kind:
            del self.fields["kind"]  # a device's kind stays what it was issued as


class RejectionFilterForm(forms.Form):
    door = forms.ChoiceField(label=_("Door"), required=False, choices=[("", _("Any door")), *Door.choices])
    reason = forms.ChoiceField(
        label=_("Reason"), required=False, choices=[("", _("Any reason")), *RejectReason.choices]
    )
    q = forms.CharField(label=_("Device prefix"), required=False, max_length=16)
