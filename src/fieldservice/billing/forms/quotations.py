"""Forms of the quotation pages: the desk's form, the decision, the phone's signature, the follow link."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.billing.choices import FeeKind, QuotationStatus
from fieldservice.billing.forms.margins import DateInput
from fieldservice.field.forms import SignatureForm

__all__ = [
    "CustomerDecisionForm",
    "DecisionForm",
    "QuotationFilterForm",
    "QuotationForm",
    "QuotationSignatureForm",
    "QuotationReasonForm",
]

QUOTATION_LINE_ROWS = 8
LINE_NAMES = ("kind", "description", "part", "quantity", "unit", "unit_price", "discount")


class QuotationFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *QuotationStatus.choices]
    )


class QuotationForm(forms.Form):
    """A version of a quotation: rows of lines (the rows left empty are ignored), the date, the tax.
    An empty unit price is taken from the price list."""

    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput())
    tax_rate = forms.CharField(label=_("Tax rate (%)"), max_length=10, initial="13")
    note = forms.CharField(label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, rows: int = QUOTATION_LINE_ROWS, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in range(rows):
            self.fields[f"kind_{row}"] = forms.ChoiceField(
                label=_("Kind"), required=False, choices=[("", "—"), *FeeKind.choices]
            )
            self.fields[f"description_{row}"] = forms.CharField(label=_("Description"), max_length=200, required=False)
            self.fields[f"part_{row}"] = forms.CharField(label=_("Part number"), max_length=64, required=False)
            self.fields[f"quantity_{row}"] = forms.CharField(label=_("Quantity"), max_length=20, required=False)
            self.fields[f"unit_{row}"] = forms.CharField(label=_("Unit"), max_length=10, required=False)
            self.fields[f"unit_price_{row}"] = forms.CharField(
                label=_("Unit price"),
                max_length=20,
                required=False,
                widget=forms.TextInput(attrs={"placeholder": _("from the price list")}),
            )
            self.fields[f"discount_{row}"] = forms.CharField(label=_("Discount"), max_length=20, required=False)

    def line_rows(self) -> list[list]:
        return [[self[f"{name}_{row}"] for name in LINE_NAMES] for row in range(self.rows)]

    def clean_lines(self, parts) -> tuple[list[dict], dict[str, str]]:
        """The filled rows as the service's line specs, and the service's field names mapped to ours."""
        lines, aliases = [], {}
        for row in range(self.rows):
            values = {name: (self.cleaned_data.get(f"{name}_{row}") or "").strip() for name in LINE_NAMES}
            if not any(values.values()):
                continue
            spec = {name: values[name] for name in ("kind", "description", "quantity", "unit")}
            spec["unit_price"] = values["unit_price"] or None
            spec["discount"] = values["discount"] or None
            if values["part"]:
                part = parts.filter(part_number__iexact=values["part"]).first()
                if part is None:
                    self.add_error(f"part_{row}", _("No part with this number."))
                    continue
                spec["part"] = part
                spec["kind"] = spec["kind"] or FeeKind.PART
            index = len(lines)
            for name in LINE_NAMES:
                aliases[f"lines[{index}].{name}"] = f"{name}_{row}"
            lines.append(spec)
        aliases["lines"] = "kind_0"
        return lines, aliases

    @classmethod
    def initial_from(cls, version) -> dict:
        initial = {
            "valid_until": version.valid_until,
            "tax_rate": f"{version.tax_rate.normalize():f}",
            "note": version.note,
        }
        for row, line in enumerate(version.lines.select_related("part").order_by("position", "pk")):
            initial.update(
                {
                    f"kind_{row}": line.kind,
                    f"description_{row}": line.description,
                    f"part_{row}": line.part.part_number if line.part_id else "",
                    f"quantity_{row}": f"{line.quantity.normalize():f}",
                    f"unit_{row}": line.unit,
                    f"unit_price_{row}": str(line.unit_price),
                    f"discount_{row}": str(line.discount) if line.discount else "",
                }
            )
        return initial


class QuotationReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.TextInput())


class DecisionForm(forms.Form):
    """The office records the customer's decision (given by phone, mail or in person)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approved")), ("decline", _("Declined"))], widget=forms.RadioSelect
    )
    signer_name = forms.CharField(label=_("Decided by (customer's name)"), max_length=100, required=False)
    reason = forms.CharField(label=_("Reason for declining"), max_length=500, required=False)


class CustomerDecisionForm(forms.Form):
    """The customer on the follow link: the version he saw, and a reason when he declines."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    signer_name = forms.CharField(label=_("Your name"), max_length=100, required=False)
    reason = forms.CharField(label=_("Why do you decline?"), max_length=500, required=False)


class QuotationSignatureForm(SignatureForm):
    """The customer signs on the engineer's phone to approve the quotation."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
