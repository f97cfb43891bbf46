from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.inventory.choices import CountStatus, Unit


class PartForm(forms.Form):
    part_number = forms.CharField(label=_("Part number"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=200)
    specification = forms.CharField(label=_("Specification"), max_length=300, required=False)
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices, initial=Unit.PIECE)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class CountFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All"))] + CountStatus.choices)


class OpenCountForm(forms.Form):
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=None)
    blind = forms.BooleanField(
        label=_("Blind count"),
        required=False,
        initial=True,
        help_text=_("The counter does not see the expected quantities; you see the differences before posting."),
    )

    def __init__(self, *args, warehouses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = warehouses


class LevelFilterForm(forms.Form):
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), required=False, queryset=None)

    def __init__(self, *args, warehouses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = warehouses
