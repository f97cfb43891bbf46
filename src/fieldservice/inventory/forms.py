from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.models import User
from fieldservice.inventory import selectors
from fieldservice.inventory.choices import DefectStatus, FactoryReturnStatus, Unit
from fieldservice.inventory.models import Warehouse
from fieldservice.inventory.permissions import may_operate
from fieldservice.inventory.services.factory import STORES


class PartForm(forms.Form):
    part_number = forms.CharField(label=_("Part number"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=200)
    specification = forms.CharField(label=_("Specification"), max_length=300, required=False)
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices, initial=Unit.PIECE)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class DefectFilterForm(forms.Form):
    """The filters above the list of defective parts owed (GET)."""

    engineer = forms.ModelChoiceField(
        label=_("Engineer"), required=False, queryset=None, empty_label=_("All engineers")
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Owed or on the way")),
            (DefectStatus.OWED, DefectStatus.OWED.label),
            (DefectStatus.RETURNING, DefectStatus.RETURNING.label),
        ],
    )
    warehouse = forms.ModelChoiceField(
        label=_("Stock"), required=False, queryset=None, empty_label=_("All engineers' stock")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        visible = selectors.defects_for(user)
        self.fields["engineer"].queryset = User.objects.filter(pk__in=visible.values("engineer")).order_by("username")
        self.fields["warehouse"].queryset = selectors.warehouses_for(user).filter(pk__in=visible.values("warehouse"))

    def filter(self, defects):
        """Apply the filters that parsed; a tampered value is ignored rather than failing the page."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        statuses = [data["status"]] if data.get("status") else list(selectors.OPEN_DEFECT_STATUSES)
        defects = defects.filter(status__in=statuses)
        if data.get("engineer"):
            defects = defects.filter(engineer=data["engineer"])
        if data.get("warehouse"):
            defects = defects.filter(warehouse=data["warehouse"])
        return defects


class FactoryReturnFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *FactoryReturnStatus.choices]
    )

    def filter(self, returns):
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("status"):
            returns = returns.filter(status=data["status"])
        return returns


class FactoryReturnForm(forms.Form):
    """The warehouse and note of a new return; the parts are the ticked boxes of the page."""

    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=None)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        operable = [
            warehouse.pk
            for warehouse in selectors.warehouses_for(user).filter(kind__in=STORES, is_active=True)
            if may_operate(user, warehouse)
        ]
        self.fields["warehouse"].queryset = Warehouse.objects.filter(pk__in=operable)


class ShipFactoryReturnForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), required=False, max_length=100)
    tracking_number = forms.CharField(label=_("Tracking number"), required=False, max_length=100)
