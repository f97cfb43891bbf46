from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.inventory.choices import Unit


def add_service_errors(form: forms.Form, error, field_map: dict[str, str] | None = None) -> None:
    """Put a service's ValidationError on the form, each message on the field it names."""
    field_map = field_map or {}
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for name, messages in error.message_dict.items():
        name = field_map.get(name, name)
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)


class PartForm(forms.Form):
    part_number = forms.CharField(label=_("Part number"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=200)
    specification = forms.CharField(label=_("Specification"), max_length=300, required=False)
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices, initial=Unit.PIECE)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
