"""Forms of billing's pages. They only parse input; the services validate and save."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.billing.choices import FeeKind, Payer

PAYER_CHOICES = [("", _("As the entitlement says"))] + list(Payer.choices)


class FeeLineForm(forms.Form):
    """A line added by the back office. Amounts are text: the service parses them and names the
    field it refuses."""

    kind = forms.ChoiceField(label=_("Kind"), choices=[c for c in FeeKind.choices if c[0] != FeeKind.PART])
    description = forms.CharField(label=_("Description"), max_length=200)
    quantity = forms.CharField(label=_("Quantity"), initial="1", max_length=20)
    unit = forms.CharField(label=_("Unit"), max_length=10, required=False)
    unit_price = forms.CharField(label=_("Unit price"), max_length=20)
    discount = forms.CharField(label=_("Discount"), max_length=20, required=False)
    unit_cost = forms.CharField(
        label=_("Our cost per unit"),
        max_length=20,
        required=False,
        help_text=_("Empty: none (another cost: what was paid)."),
    )
    payer = forms.ChoiceField(label=_("Who pays"), choices=PAYER_CHOICES, required=False)
    payer_reason = forms.CharField(label=_("Why"), max_length=300, required=False)


class FeeCorrectForm(forms.Form):
    description = forms.CharField(label=_("Description"), max_length=200)
    quantity = forms.CharField(label=_("Quantity"), max_length=20)
    unit = forms.CharField(label=_("Unit"), max_length=10, required=False)
    unit_price = forms.CharField(label=_("Unit price"), max_length=20)
    discount = forms.CharField(label=_("Discount"), max_length=20, required=False)
    unit_cost = forms.CharField(label=_("Our cost per unit"), max_length=20, required=False)
    payer = forms.ChoiceField(label=_("Who pays"), choices=Payer.choices)
    payer_reason = forms.CharField(label=_("Why"), max_length=300, required=False)
    reason = forms.CharField(label=_("Reason for the correction"), max_length=300)

    @staticmethod
    def initial_for(line) -> dict:
        return {
            "description": line.description,
            "quantity": line.quantity.normalize(),
            "unit": line.unit,
            "unit_price": line.unit_price,
            "discount": line.discount,
            "unit_cost": line.unit_cost.normalize(),
            "payer": line.payer,
            "payer_reason": line.payer_reason,
        }


class FeeVoidForm(forms.Form):
    reason = forms.CharField(label=_("Reason for removing the line"), max_length=300)


class OtherCostForm(forms.Form):
    """The engineer's phone: a cost he paid (toll, lodging) with a photo of its receipt."""

    description = forms.CharField(
        label=_("What was paid"), max_length=200, widget=forms.TextInput(attrs={"placeholder": _("Toll, lodging…")})
    )
    unit_price = forms.CharField(
        label=_("Amount"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    receipt = forms.ImageField(
        label=_("Receipt photo"), widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"})
    )
