"""Forms parse input for the views; the services decide what is allowed."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.assets import selectors
from fieldservice.assets.choices import EquipmentStatus, WarrantyState
from fieldservice.assets.models import Equipment, ProductModel
from fieldservice.core.validation import parse_id
from fieldservice.customers.selectors import customers_for, sites_for
from fieldservice.inventory.selectors import parts_for


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class EquipmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.product_model.code} #{obj.serial_number} · {obj.customer.name}"


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.address}"


class EquipmentFilterForm(forms.Form):
    """The list filters. An invalid value is ignored rather than failing the page."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *EquipmentStatus.choices]
    )
    product_model = forms.ModelChoiceField(
        label=_("Product model"), required=False, queryset=ProductModel.objects.none(), empty_label=_("All models")
    )
    customer = forms.ModelChoiceField(
        label=_("Customer"), required=False, queryset=customers_for(None), empty_label=_("All customers")
    )
    warranty = forms.ChoiceField(
        label=_("Warranty"),
        required=False,
        choices=[
            ("", _("Any warranty")),
            (WarrantyState.IN_WARRANTY, WarrantyState.IN_WARRANTY.label),
            (WarrantyState.EXPIRED, WarrantyState.EXPIRED.label),
        ],
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product_model"].queryset = selectors.product_models_for(actor)
        self.fields["customer"].queryset = customers_for(actor)

    def filters(self) -> dict:
        if not self.is_valid():
            return {name: self.cleaned_data.get(name) for name in self.fields if name in self.cleaned_data}
        return dict(self.cleaned_data)


class EquipmentForm(forms.Form):
    product_model = forms.ModelChoiceField(label=_("Product model"), queryset=ProductModel.objects.none())
    serial_number = forms.CharField(label=_("Serial number"), max_length=64)
    lot_number = forms.CharField(label=_("Lot / batch"), max_length=64, required=False)
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=customers_for(None))
    site = SiteChoiceField(label=_("Site"), queryset=sites_for(None), required=False)
    parent = EquipmentChoiceField(
        label=_("Part of machine"),
        queryset=Equipment.objects.none(),
        required=False,
        help_text=_("Only for a module of a registered machine of the same customer."),
    )
    installed_on = forms.DateField(label=_("Installation date"), required=False, widget=DateInput())
    warranty_starts_on = forms.DateField(
        label=_("Warranty start"),
        required=False,
        widget=DateInput(),
        help_text=_("Empty: the installation date."),
    )
    warranty_ends_on = forms.DateField(
        label=_("Warranty end"),
        required=False,
        widget=DateInput(),
        help_text=_("Empty: the start plus the model's default warranty."),
    )

    def __init__(self, *args, actor, equipment: Equipment | None = None, site_options_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.equipment = equipment
        self.fields["product_model"].queryset = selectors.product_models_for(actor).filter(is_active=True)
        self.fields["customer"].queryset = customers_for(actor)
        # Every visible site validates (the service tells a wrong customer's site apart);
        # only the chosen customer's sites are offered.
        self.fields["site"].queryset = sites_for(actor)
        self.fields["parent"].queryset = selectors.parent_candidates_for(actor, equipment).select_related("customer")
        if equipment is not None:
            # The fitted parts came from this model's BOM; a wrong model means re-registering.
            self.fields["product_model"].disabled = True
            self.fields["product_model"].queryset = selectors.product_models_for(actor)
        customer_id = self._chosen_customer_id()
        if customer_id:
            self.fields["site"].widget.choices = [
                ("", self.fields["site"].empty_label),
                *(
                    (site.pk, self.fields["site"].label_from_instance(site))
                    for site in sites_for(actor).filter(customer_id=customer_id)
                ),
            ]
            self.fields["parent"].widget.choices = [
                ("", self.fields["parent"].empty_label),
                *(
                    (item.pk, self.fields["parent"].label_from_instance(item))
                    for item in self.fields["parent"].queryset.filter(customer_id=customer_id)
                ),
            ]
        else:
            self.fields["site"].widget.choices = [("", _("Choose a customer first"))]
            self.fields["parent"].widget.choices = [("", _("Choose a customer first"))]
        if site_options_url:
            self.fields["customer"].widget.attrs.update(
                {
                    "hx-get": site_options_url,
                    "hx-target": "#equipment-links",
                    "hx-select": "#equipment-links",
                    "hx-swap": "outerHTML",
                }
            )

    def _chosen_customer_id(self):
        if self.is_bound:
            value = self.data.get(self.add_prefix("customer"))
            return parse_id(value)
        initial = self.initial.get("customer")
        return getattr(initial, "pk", initial)


class InvalidateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.TextInput())


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    file = forms.FileField(
        label=_("File"),
        help_text=_("A PDF or an image (JPEG, PNG, GIF, WebP)."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/*"}),
    )


class ProductModelForm(forms.Form):
    code = forms.CharField(label=_("Model code"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=200)
    product_line = forms.CharField(label=_("Product line"), max_length=100, required=False)
    default_warranty_months = forms.IntegerField(label=_("Default warranty (months)"), min_value=0, initial=12)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea)
    # A plain file field: the service checks that it really is an image.
    image = forms.FileField(
        label=_("Image"),
        required=False,
        help_text=_("JPEG, PNG, GIF or WebP, at most 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        image = data.pop("image")
        if image is False:  # "clear" ticked
            data["image"] = ""
        elif image:
            data["image"] = image
        return data


class BomLineForm(forms.Form):
    part = forms.ModelChoiceField(label=_("Part"), queryset=parts_for(None))
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=10, decimal_places=3, initial=1)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["part"].queryset = parts_for(actor).filter(is_active=True)
