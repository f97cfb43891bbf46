"""Forms of the campaign pages: the campaign with its selection and parts, the filters, marking a machine."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import ServiceArea, User
from fieldservice.assets.models import ProductModel
from fieldservice.core.choices import Priority, ServiceType
from fieldservice.customers.models import Customer
from fieldservice.field.models import JobTemplate
from fieldservice.inventory.models import Part
from fieldservice.maintenance.models.campaigns import CampaignAction, CampaignStatus, TargetStatus

PART_ROWS = 5
UPLOAD_LIMIT = 2 * 1024 * 1024


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class CampaignForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    action = forms.ChoiceField(label=_("Action"), choices=CampaignAction.choices)
    service_type = forms.ChoiceField(
        label=_("Service type of the orders"),
        choices=[c for c in ServiceType.choices if c[0] != ServiceType.CONSULTATION],
        initial=ServiceType.INSPECTION,
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    job_template = forms.ModelChoiceField(
        label=_("Job template"), queryset=JobTemplate.objects.filter(is_active=True), required=False
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    starts_on = forms.DateField(label=_("Starts"), required=False, widget=DateInput())
    ends_on = forms.DateField(label=_("Ends"), required=False, widget=DateInput())
    # The selection: every criterion given must hold.
    product_models = forms.ModelMultipleChoiceField(
        label=_("Product models"), queryset=ProductModel.objects.all(), required=False
    )
    serial_from = forms.CharField(label=_("Serial number from"), required=False, max_length=64)
    serial_to = forms.CharField(label=_("Serial number to"), required=False, max_length=64)
    lot_from = forms.CharField(label=_("Lot from"), required=False, max_length=64)
    lot_to = forms.CharField(
        label=_("Lot to"),
        required=False,
        max_length=64,
        help_text=_("Ranges compare text of the same width character by character: 2024-B02 to 2024-B10."),
    )
    installed_from = forms.DateField(label=_("Installed from"), required=False, widget=DateInput())
    installed_to = forms.DateField(label=_("Installed until"), required=False, widget=DateInput())
    customers = forms.ModelMultipleChoiceField(label=_("Customers"), queryset=Customer.objects.all(), required=False)
    areas = forms.ModelMultipleChoiceField(label=_("Service areas"), queryset=ServiceArea.objects.all(), required=False)
    serials = forms.CharField(
        label=_("Serial numbers"),
        required=False,
        max_length=200_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line, or separated by commas."),
    )
    serials_file = forms.FileField(
        label=_("Or a file of serial numbers"),
        required=False,
        help_text=_("Excel (.xlsx) or CSV: the serial numbers in the first column."),
    )
    source_kind = forms.CharField(required=False, widget=forms.HiddenInput())
    source_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput())

    def __init__(self, *args, launched: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            is_active=True, organisation__kind=OrganisationKind.OWN
        ).order_by("username")
        for index in range(PART_ROWS):
            self.fields[f"part_{index}"] = forms.ModelChoiceField(
                label=_("Part"), queryset=Part.objects.filter(is_active=True), required=False
            )
            self.fields[f"quantity_{index}"] = forms.DecimalField(
                label=_("Quantity per machine"), required=False, max_digits=10, decimal_places=3, min_value=0
            )
        if launched:
            for name in list(self.fields):
                if name not in ("title", "reason", "owner", "starts_on", "ends_on"):
                    del self.fields[name]

    def clean_serials_file(self):
        upload = self.cleaned_data.get("serials_file")
        if upload and upload.size > UPLOAD_LIMIT:
            raise forms.ValidationError(_("The file is too large (at most 2 MB)."))
        return upload

    def part_rows(self):
        return [(self[f"part_{i}"], self[f"quantity_{i}"]) for i in range(PART_ROWS) if f"part_{i}" in self.fields]

    def parts(self) -> list[tuple]:
        rows = []
        for index in range(PART_ROWS):
            part = self.cleaned_data.get(f"part_{index}")
            if part is not None:
                rows.append((part, self.cleaned_data.get(f"quantity_{index}")))
        return rows


class CampaignFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *CampaignStatus.choices]
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any action")), *CampaignAction.choices]
    )


class TargetFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *TargetStatus.choices]
    )
    area = forms.ModelChoiceField(
        label=_("Area"), required=False, queryset=ServiceArea.objects.all(), empty_label=_("Any area")
    )


class MarkTargetForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Mark as"),
        choices=[
            (TargetStatus.REFUSED, TargetStatus.REFUSED.label),
            (TargetStatus.UNREACHABLE, TargetStatus.UNREACHABLE.label),
            (TargetStatus.PENDING, TargetStatus.PENDING.label),
        ],
    )
    note = forms.CharField(label=_("Reason or note"), required=False, max_length=500)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=500)
