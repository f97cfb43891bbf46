from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.inventory.choices import Unit


class PartForm(forms.Form):
    part_number = forms.CharField(label=_("Part number"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=200)
    specification = forms.CharField(label=_("Specification"), max_length=300, required=False)
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices, initial=Unit.PIECE)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
