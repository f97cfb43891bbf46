from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import ServiceArea, User
from fieldservice.inventory import selectors
from fieldservice.inventory.choices import (
    CountStatus,
    DefectStatus,
    Delivery,
    FactoryReturnStatus,
    Grade,
    Tracking,
    TransferKind,
    TransferStatus,
    Unit,
    WarehouseKind,
)
from fieldservice.inventory.models import DefectivePart, Warehouse
from fieldservice.inventory.permissions import may_operate
from fieldservice.inventory.services.factory import STORES
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


# Requisitions, transfers and returns. Quantities stay text here: the service parses them and names
# the line it refuses (`lines[0].quantity`, `quantities[12]`), and the page puts that on the field.

LINE_ROWS = 6


class LinesMixin:
    """Rows of part number, quantity and lot; the rows left empty are ignored."""

    rows = LINE_ROWS

    def add_line_fields(self, rows: int | None = None, *, lots: bool = True) -> None:
        self.rows = rows or self.rows
        self.with_lots = lots
        for row in range(self.rows):
            self.fields[f"part_{row}"] = forms.CharField(label=_("Part number"), max_length=64, required=False)
            self.fields[f"quantity_{row}"] = forms.CharField(label=_("Quantity"), max_length=20, required=False)
            if lots:
                self.fields[f"lot_{row}"] = forms.CharField(label=_("Lot"), max_length=64, required=False)

    def line_rows(self) -> list[list]:
        """The bound fields by row, for the template's table."""
        names = ("part", "quantity", "lot") if self.with_lots else ("part", "quantity")
        return [[self[f"{name}_{row}"] for name in names] for row in range(self.rows)]

    def clean_lines(self, parts) -> tuple[list[dict], dict[str, str]]:
        """The filled rows as the service's lines, and the service's field names mapped to ours."""
        lines, aliases = [], {}
        for row in range(self.rows):
            number = (self.cleaned_data.get(f"part_{row}") or "").strip()
            quantity = (self.cleaned_data.get(f"quantity_{row}") or "").strip()
            lot = (self.cleaned_data.get(f"lot_{row}") or "").strip() if self.with_lots else ""
            if not (number or quantity or lot):
                continue
            if not number:
                self.add_error(f"part_{row}", _("Enter the part number."))
                continue
            part = parts.filter(part_number__iexact=number).first()
            if part is None:
                self.add_error(f"part_{row}", _("No part with this number."))
                continue
            index = len(lines)
            for name in ("part", "quantity", "lot"):
                aliases[f"lines[{index}].{name}"] = f"{name}_{row}"
            aliases[f"lines[{index}].grade"] = f"part_{row}"
            lines.append({"part": part, "quantity": quantity or "", "lot": lot})
        aliases["lines"] = "part_0"
        return lines, aliases


class TransferFilterForm(forms.Form):
    q = forms.CharField(required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *TransferKind.choices])
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *TransferStatus.choices]
    )
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"), required=False, queryset=Warehouse.objects.none(), empty_label=_("All warehouses")
    )
    urgent = forms.ChoiceField(
        label=_("Urgent"),
        required=False,
        choices=[("", _("Urgent or not")), ("yes", _("Urgent")), ("no", _("Not urgent"))],
    )

    def __init__(self, *args, warehouses=None, **kwargs):
        super().__init__(*args, **kwargs)
        if warehouses is not None:
            self.fields["warehouse"].queryset = warehouses

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "kind": data.get("kind") or "",
            "status": data.get("status") or "",
            "warehouse": data.get("warehouse"),
            "urgent": {"yes": True, "no": False}.get(data.get("urgent") or ""),
        }


class TransferCreateForm(LinesMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (TransferKind.TRANSFER, _("Transfer between warehouses")),
            (TransferKind.REQUISITION, _("Requisition for an engineer")),
        ],
    )
    source = forms.ModelChoiceField(label=_("From"), queryset=Warehouse.objects.none())
    destination = forms.ModelChoiceField(
        label=_("To"),
        queryset=Warehouse.objects.none(),
        help_text=_("A warehouse, or an engineer's stock for a requisition."),
    )
    work_order_number = forms.CharField(label=_("Work order number"), max_length=32, required=False)
    urgent = forms.BooleanField(label=_("Urgent"), required=False)
    delivery = forms.ChoiceField(label=_("Delivery"), choices=Delivery.choices, initial=Delivery.SHIP)
    note = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, sources=None, destinations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources if sources is not None else Warehouse.objects.none()
        self.fields["destination"].queryset = destinations if destinations is not None else Warehouse.objects.none()
        self.add_line_fields()


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class PerLineForm(forms.Form):
    """One field per line of a document, named after the line (`<prefix>_<line id>`), so the
    service's `quantities[<line id>]` lands on it."""

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        self.aliases: dict[str, str] = {}

    def per_line(self, prefix: str, key: str) -> dict:
        values = {}
        for line in self.lines:
            name = f"{prefix}_{line.pk}"
            if name in self.fields:
                self.aliases[f"{key}[{line.pk}]"] = name
                value = self.cleaned_data.get(name)
                if value not in (None, ""):
                    values[line.pk] = value
        return values


class ApproveForm(PerLineForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for line in self.lines:
            self.fields[f"q_{line.pk}"] = forms.CharField(
                label=line.part.part_number, max_length=20, initial=line.requested.normalize()
            )

    def quantities(self) -> dict:
        quantities = self.per_line("q", "quantities")
        self.aliases["quantities"] = f"q_{self.lines[0].pk}" if self.lines else None
        return quantities


class ShipForm(PerLineForm):
    delivery = forms.ChoiceField(label=_("Delivery"), choices=Delivery.choices)
    carrier = forms.CharField(label=_("Carrier"), max_length=100, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for line in self.lines:
            if line.part.tracking == Tracking.SERIAL and line.defect_id is None and line.approved:
                self.fields[f"s_{line.pk}"] = forms.CharField(
                    label=_("Serial numbers of %(part)s") % {"part": line.part.part_number},
                    max_length=5000,
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 2}),
                    help_text=_("One per line or separated by spaces."),
                )

    def serials(self) -> dict:
        return self.per_line("s", "serials")


class TransferReceiveForm(PerLineForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for line in self.lines:
            if not line.shipped:
                continue
            if line.part.tracking == Tracking.SERIAL and line.defect_id is None:
                self.fields[f"m_{line.pk}"] = forms.CharField(
                    label=_("Serials of %(part)s that did not arrive") % {"part": line.part.part_number},
                    max_length=5000,
                    required=False,
                )
            else:
                self.fields[f"q_{line.pk}"] = forms.CharField(
                    label=_("%(part)s received") % {"part": line.part.part_number},
                    max_length=20,
                    initial=line.shipped.normalize(),
                )

    def quantities(self) -> dict:
        return self.per_line("q", "quantities")

    def missing(self) -> dict:
        return self.per_line("m", "missing")


class VanRequestForm(LinesMixin, forms.Form):
    """The engineer asks a warehouse for parts for his own stock (phone)."""

    source = forms.ModelChoiceField(label=_("From"), queryset=Warehouse.objects.none())
    urgent = forms.BooleanField(label=_("Urgent"), required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    order = forms.CharField(required=False, widget=forms.HiddenInput)
    number = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)

    def __init__(self, *args, sources=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources if sources is not None else Warehouse.objects.none()
        self.add_line_fields(4, lots=False)


class VanReturnForm(forms.Form):
    """The engineer sends good parts from his stock, and the defective parts he owes, back."""

    destination = forms.ModelChoiceField(label=_("To"), queryset=Warehouse.objects.none())
    defects = forms.ModelMultipleChoiceField(
        label=_("Defective parts you owe"),
        queryset=DefectivePart.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, destinations=None, balances=(), defects=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["destination"].queryset = destinations if destinations is not None else Warehouse.objects.none()
        if defects is not None:
            self.fields["defects"].queryset = defects
        self.fields["defects"].label_from_instance = lambda d: " · ".join(
            filter(None, [d.part.part_number, d.part.name, d.serial, d.work_order_number])
        )
        self.balances = list(balances)
        for balance in self.balances:
            self.fields[f"g_{balance.pk}"] = forms.CharField(
                label=" ".join(filter(None, [balance.part.part_number, balance.lot])), max_length=20, required=False
            )

    def balance_rows(self) -> list:
        return [(balance, self[f"g_{balance.pk}"]) for balance in self.balances]

    def clean_lines(self) -> tuple[list[dict], dict[str, str]]:
        lines, aliases = [], {"lines": None, "defects": "defects"}
        for balance in self.balances:
            quantity = (self.cleaned_data.get(f"g_{balance.pk}") or "").strip()
            if not quantity or quantity == "0":
                continue
            aliases[f"lines[{len(lines)}].quantity"] = f"g_{balance.pk}"
            aliases[f"lines[{len(lines)}].part"] = f"g_{balance.pk}"
            lines.append({"part": balance.part, "quantity": quantity, "lot": balance.lot})
        return lines, aliases


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
