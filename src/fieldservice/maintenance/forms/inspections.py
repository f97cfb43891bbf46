"""Forms of the inspection pages: the desk's filter and create form, the finding form (phone), and
the customer's decisions on the follow link."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.maintenance.models.inspections import FindingDisposition, FindingSeverity, InspectionStatus


class InspectionFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *InspectionStatus.choices]
    )
    customer = forms.ModelChoiceField(label=_("Customer"), required=False, queryset=None, empty_label=_("Any customer"))
    owner = forms.ModelChoiceField(label=_("Owner"), required=False, queryset=None, empty_label=_("Anyone"))

    def __init__(self, *args, customers=None, owners=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
        self.fields["owner"].queryset = owners


class InspectionForm(forms.Form):
    """The site is chosen first (the page reloads with ?site=); then its machines and open issues."""

    title = forms.CharField(label=_("Title"), required=False, max_length=200)
    template = forms.ModelChoiceField(label=_("Health-check template"), queryset=None)
    equipment = forms.MultipleChoiceField(label=_("Machines"), widget=forms.CheckboxSelectMultiple, choices=())
    issue_orders = forms.MultipleChoiceField(
        label=_("Open work orders to look at"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )
    issue_requests = forms.MultipleChoiceField(
        label=_("Open requests to look at"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None)
    engineers = forms.ModelMultipleChoiceField(label=_("Engineers"), required=False, queryset=None)
    planned_on = forms.DateField(label=_("Planned for"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(
        label=_("Note to the customer"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, templates, machines, orders, requests, owners, engineers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
        self.fields["equipment"].choices = [(m.pk, f"{m.product_model.name} #{m.serial_number}") for m in machines]
        self.fields["issue_orders"].choices = [(o.pk, f"{o.number}: {o.description[:80]}") for o in orders]
        self.fields["issue_requests"].choices = [(r.pk, f"{r.number}: {r.description[:80]}") for r in requests]
        self.fields["owner"].queryset = owners
        self.fields["engineers"].queryset = engineers


class FindingForm(forms.Form):
    machine = forms.TypedChoiceField(label=_("Machine"), coerce=int, choices=())
    severity = forms.ChoiceField(label=_("Severity"), choices=[("", "—"), *FindingSeverity.choices])
    title = forms.CharField(label=_("Problem found"), max_length=300)
    disposition = forms.ChoiceField(label=_("What is done about it"), choices=[("", "—"), *FindingDisposition.choices])
    action_taken = forms.CharField(
        label=_("What was done (fixed on the spot)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    recommendation = forms.CharField(
        label=_("Recommendation or change proposed"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )

    def __init__(self, *args, machines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["machine"].choices = [
            (m.pk, f"{m.equipment.product_model.name} #{m.equipment.serial_number}") for m in machines
        ]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class NameForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100)


class DeclineForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class CommentForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=100, required=False)
    comment = forms.CharField(label=_("Your comments"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
