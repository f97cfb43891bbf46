"""Forms for the phone pages. They parse; the field services decide (fields are optional here so
the service's field-named errors are the ones the engineer sees)."""

import base64
import binascii

from django import forms
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from fieldservice.assets.models import ProductModel
from fieldservice.core.choices import ServiceType
from fieldservice.field.choices import ReportLayout, StepKind
from fieldservice.field.selectors import fitted_parts_for_order
from fieldservice.field.services import SIGNATURE_LIMIT
from fieldservice.inventory.models import SerialUnit
from fieldservice.inventory.selectors import parts_for, van_of
from fieldservice.workorders.choices import ResolutionType
from fieldservice.workorders.models import FaultCategory

DATA_URL_PREFIXES = {"data:image/png;base64,": "png", "data:image/jpeg;base64,": "jpg"}


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class LocationForm(forms.Form):
    """Start travel and check in: the browser fills these from navigator.geolocation when it may."""

    latitude = forms.CharField(required=False, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, widget=forms.HiddenInput)
    accuracy = forms.CharField(required=False, widget=forms.HiddenInput)
    location_error = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)


class WorkForm(forms.Form):
    resolution_type = forms.ChoiceField(
        label=_("Resolution"), required=False, choices=[("", "—"), *ResolutionType.choices]
    )
    fault_cause = forms.CharField(label=_("Fault cause"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    actions_taken = forms.CharField(label=_("Work done"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    labour_hours = forms.DecimalField(
        label=_("Labour hours"),
        required=False,
        max_digits=6,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.25", "min": "0", "inputmode": "decimal"}),
    )


class FittedPartChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        serial = f" #{obj.part_serial_number}" if obj.part_serial_number else ""
        return f"{obj.part.part_number} {obj.part.name}{serial} × {obj.quantity.normalize()}"


class PartForm(forms.Form):
    """Either a fitted part of the machine to replace, or a part from the catalogue (or both: a
    fitted part replaced by another part number)."""

    replaces = FittedPartChoiceField(
        label=_("Replace a fitted part"), required=False, queryset=None, empty_label=_("— not a replacement —")
    )
    part = forms.ModelChoiceField(label=_("Part from the catalogue"), required=False, queryset=None)
    quantity = forms.DecimalField(
        label=_("Quantity"),
        required=False,
        initial=1,
        max_digits=10,
        decimal_places=3,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
    )
    code = forms.CharField(
        label=_("Or scan / type a part number or serial number"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    lot = forms.CharField(label=_("Lot"), required=False, max_length=64)
    new_serial = forms.CharField(label=_("New part's serial number"), required=False, max_length=64)

    def __init__(self, *args, actor, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["replaces"].queryset = fitted_parts_for_order(order)
        # Any part the user may see is accepted; the page lists only the search results.
        self.fields["part"].queryset = parts_for(actor).filter(is_active=True)

    def clean(self):
        data = super().clean()
        code = (data.get("code") or "").strip()
        if code and not self.errors:
            part, serial = resolve_code(self.actor, code)
            if part is None:
                self.add_error("code", _("No part or serial number “%(code)s” found.") % {"code": code})
            elif data.get("part") and data["part"] != part:
                self.add_error("code", _("The scanned code is another part than the one chosen."))
            else:
                data["part"] = part
                if serial and not data.get("new_serial"):
                    data["new_serial"] = serial
        if not data.get("replaces") and not data.get("part") and not self.errors:
            self.add_error("part", _("Choose a fitted part to replace or a part from the catalogue."))
        return data


def resolve_code(actor, code: str):
    """What a scanned or typed code names: `PART:<part number>` or a part number (the part), or a
    unit's serial number (its part and the serial; units in the engineer's own van first)."""
    text = code.strip()
    if text.upper().startswith("PART:"):
        text = text[5:].strip()
        return parts_for(actor).filter(is_active=True, part_number__iexact=text).first(), ""
    part = parts_for(actor).filter(is_active=True, part_number__iexact=text).first()
    if part is not None:
        return part, ""
    # Only a unit in his own van: a serial elsewhere is not his to name, nor to learn the part of.
    van = van_of(actor)
    unit = (
        SerialUnit.objects.filter(serial=text, warehouse=van, part__in=parts_for(actor).filter(is_active=True)).first()
        if van is not None
        else None
    )
    if unit is not None:
        return unit.part, unit.serial
    return None, ""


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/*", "capture": "environment", "multiple": True})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class PhotoForm(forms.Form):
    photos = MultipleFileField(label=_("Photos"), required=False)

    def clean_photos(self):
        photos = self.cleaned_data["photos"]
        if not photos:
            raise forms.ValidationError(_("Choose a photo."), code="required")
        return photos


class SignatureForm(forms.Form):
    """The signature pad posts the canvas as a data URL; it becomes an image file here."""

    signer_name = forms.CharField(label=_("Signed by"), required=False, max_length=100)
    signature = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_signature(self):
        value = (self.cleaned_data.get("signature") or "").strip()
        if not value:
            raise forms.ValidationError(_("The customer has not signed."), code="required")
        extension = next((ext for prefix, ext in DATA_URL_PREFIXES.items() if value.startswith(prefix)), None)
        if extension is None:
            raise forms.ValidationError(_("The signature must be a PNG or JPEG image."), code="unsupported_image")
        encoded = value.split(",", 1)[1]
        # Base64 is 4/3 of the bytes: refuse an oversized pad before decoding it.
        if len(encoded) > SIGNATURE_LIMIT * 4 // 3 + 4:
            raise forms.ValidationError(_("The signature image is too big."), code="file_too_big")
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise forms.ValidationError(_("The signature could not be read."), code="invalid") from None
        return ContentFile(content, name=f"signature.{extension}")


# Job templates and steps (desk) -----------------------------------------------------------------------


class JobTemplateForm(forms.Form):
    """A job template's header; the service checks the combination (model or line, not both)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    service_type = forms.ChoiceField(
        label=_("Service type"), choices=[c for c in ServiceType.choices if c[0] != ServiceType.CONSULTATION]
    )
    product_model = forms.ModelChoiceField(
        label=_("Product model"), required=False, queryset=None, empty_label=_("— any model —")
    )
    product_line = forms.CharField(
        label=_("Product line"), required=False, max_length=100, help_text=_("Only when no model is chosen.")
    )
    fault_category = forms.ModelChoiceField(
        label=_("Fault category"), required=False, queryset=None, empty_label=_("— any fault —")
    )
    report_layout = forms.ChoiceField(label=_("Report layout"), choices=ReportLayout.choices)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product_model"].queryset = ProductModel.objects.filter(is_active=True).order_by("code")
        self.fields["fault_category"].queryset = FaultCategory.objects.order_by("code")

    @classmethod
    def initial_of(cls, template) -> dict:
        return {
            "name": template.name,
            "service_type": template.service_type,
            "product_model": template.product_model_id,
            "product_line": template.product_line,
            "fault_category": template.fault_category_id,
            "report_layout": template.report_layout,
            "is_active": template.is_active,
        }


class StepForm(forms.Form):
    """One step of a template or of an order. Fields are optional here: the service names what is wrong."""

    kind = forms.ChoiceField(label=_("Kind"), choices=StepKind.choices)
    title = forms.CharField(label=_("Step"), required=False, max_length=300)
    required = forms.BooleanField(label=_("Required"), required=False, initial=True)
    unit = forms.CharField(label=_("Unit"), required=False, max_length=20, help_text=_("Number and meter steps."))
    min_value = forms.CharField(label=_("Lowest allowed"), required=False, max_length=30)
    max_value = forms.CharField(label=_("Highest allowed"), required=False, max_length=30)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Choice steps: one choice per line."),
    )
    meter = forms.CharField(
        label=_("Meter"), required=False, max_length=40, help_text=_("Meter steps; empty: operating hours.")
    )
    help_text = forms.CharField(label=_("Help"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    help_url = forms.CharField(
        label=_("Help link"), required=False, max_length=500, help_text=_("A knowledge article or manual page.")
    )

    @classmethod
    def initial_of(cls, step) -> dict:
        return {
            "kind": step.kind,
            "title": step.title,
            "required": step.required,
            "unit": step.unit,
            "min_value": format(step.min_value.normalize(), "f") if step.min_value is not None else "",
            "max_value": format(step.max_value.normalize(), "f") if step.max_value is not None else "",
            "choices": "\n".join(step.choices or []),
            "meter": step.meter,
            "help_text": step.help_text,
            "help_url": step.help_url,
        }


class TemplateFilterForm(forms.Form):
    service_type = forms.ChoiceField(
        label=_("Service type"), required=False, choices=[("", _("All service types")), *ServiceType.choices]
    )
    product_model = forms.ModelChoiceField(
        label=_("Product model"), required=False, queryset=None, empty_label=_("All models")
    )
    active = forms.ChoiceField(
        label=_("Active"),
        required=False,
        choices=[("", _("Active and inactive")), ("yes", _("Active")), ("no", _("Inactive"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product_model"].queryset = ProductModel.objects.order_by("code")

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        active = data.get("active")
        return {
            "service_type": data.get("service_type") or None,
            "product_model": data.get("product_model"),
            "is_active": {"yes": True, "no": False}.get(active),
        }


class OrderTemplateForm(forms.Form):
    template = forms.ModelChoiceField(
        label=_("Job template"), required=False, queryset=None, empty_label=_("— no steps —")
    )

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates


def signature_file(value: str):
    """A signature pad's data URL as an image file (None when empty); ValidationError when unreadable."""
    form = SignatureForm({"signature": value, "signer_name": "-"})
    if not (value or "").strip():
        return None
    if not form.is_valid():
        raise forms.ValidationError(form.errors["signature"][0])
    return form.cleaned_data["signature"]
