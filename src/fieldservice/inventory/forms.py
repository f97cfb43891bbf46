from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import ServiceArea
from fieldservice.inventory import selectors
from fieldservice.inventory.choices import Grade, Tracking, Unit, WarehouseKind
from fieldservice.inventory.services.warehouses import CREATED_KINDS


class PartForm(forms.Form):
    part_number = forms.CharField(label=_("Part number"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=200)
    specification = forms.CharField(label=_("Specification"), max_length=300, required=False)
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices, initial=Unit.PIECE)
    # Left out of a post (an older client), the part keeps its tracking: see `changes`.
    tracking = forms.ChoiceField(label=_("Tracking"), choices=Tracking.choices, initial=Tracking.NONE, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def changes(self) -> dict:
        """The cleaned fields for the catalogue services, without a tracking nobody chose."""
        return {name: value for name, value in self.cleaned_data.items() if name != "tracking" or value}


class WarehouseFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *WarehouseKind.choices])


class StockFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), required=False, queryset=None, empty_label=_("All warehouses")
    )
    grade = forms.ChoiceField(label=_("Grade"), required=False, choices=[("", _("All grades")), *Grade.choices])
    below_minimum = forms.BooleanField(label=_("Only below minimum"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = selectors.warehouses_for(user).order_by("code")


class BalanceSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)


class _WarehouseFields(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=100)
    area = forms.ModelChoiceField(label=_("Service area"), queryset=ServiceArea.objects.all(), required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    latitude = forms.DecimalField(label=_("Latitude"), max_digits=9, decimal_places=6, required=False)
    longitude = forms.DecimalField(label=_("Longitude"), max_digits=9, decimal_places=6, required=False)


class WarehouseCreateForm(_WarehouseFields):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[(value, label) for value, label in WarehouseKind.choices if value in CREATED_KINDS]
    )
    field_order = ["organisation", "kind", "code", "name"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        organisations = selectors.warehouse_organisations_for(user)
        self.fields["organisation"].queryset = organisations
        if organisations.count() == 1:
            only = organisations.get()
            self.fields["organisation"].initial = only.pk
            self.fields["kind"].initial = (
                WarehouseKind.PROVIDER if only.kind == OrganisationKind.PROVIDER else WarehouseKind.CENTRAL
            )


class WarehouseEditForm(_WarehouseFields):
    is_active = forms.BooleanField(label=_("Active"), required=False)


class KeepersForm(forms.Form):
    keepers = forms.ModelMultipleChoiceField(
        label=_("Keepers"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Nobody ticked: every parts keeper of the organisation runs this warehouse."),
    )

    def __init__(self, *args, warehouse, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keepers"].queryset = selectors.possible_keepers(warehouse)


class BinForm(forms.Form):
    code = forms.CharField(label=_("Bin code"), max_length=32)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)


class ReceiveForm(forms.Form):
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=None)
    part = forms.CharField(label=_("Part number"), max_length=64)
    quantity = forms.CharField(label=_("Quantity"), max_length=20)
    unit_cost = forms.CharField(label=_("Unit cost"), max_length=20, required=False)
    lot = forms.CharField(label=_("Lot"), max_length=64, required=False)
    serials = forms.CharField(
        label=_("Serial numbers"),
        required=False,
        max_length=70_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For a part tracked by serial number: one per unit, one a line."),
    )
    reference = forms.CharField(label=_("Reference"), max_length=64, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = selectors.operable_warehouses_for(user, receiving=True).order_by("code")


class ScrapForm(forms.Form):
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=None)
    part = forms.CharField(label=_("Part number"), max_length=64)
    quantity = forms.CharField(label=_("Quantity"), max_length=20)
    lot = forms.CharField(label=_("Lot"), max_length=64, required=False)
    grade = forms.ChoiceField(label=_("Grade"), choices=Grade.choices, initial=Grade.GOOD)
    serial = forms.CharField(label=_("Serial number"), max_length=64, required=False)
    note = forms.CharField(label=_("Why"), max_length=300)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = selectors.operable_warehouses_for(user).order_by("code")


class LabelsForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        label=_("Bins of warehouse"), queryset=None, required=False, empty_label=_("No bins")
    )
    parts = forms.CharField(
        label=_("Part numbers"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line, or separated by commas."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = (
            selectors.warehouses_for(user).exclude(kind=WarehouseKind.TRANSIT).order_by("code")
        )
