"""Forms for contract and price list pages. They only parse input; the services validate and save."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.choices import EngineerLevel
from fieldservice.accounts.selectors import service_areas
from fieldservice.assets.choices import EquipmentStatus
from fieldservice.assets.selectors import equipment_for
from fieldservice.contracts.choices import ContractLevel, ContractStatus, PartsCoverage, PriceItemKind
from fieldservice.contracts.models import PriceList, SlaPolicy
from fieldservice.core.choices import ServiceType
from fieldservice.customers.selectors import customers_for
from fieldservice.inventory.selectors import parts_for

EXPIRING_CHOICES = [("", _("Any end date")), ("30", _("Ending within 30 days")), ("60", _("Ending within 60 days"))]
EXPIRING_CHOICES += [("90", _("Ending within 90 days"))]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class MachineChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.customer.name} · {obj.product_model.code} #{obj.serial_number}"


def _active_policies():
    return SlaPolicy.objects.filter(is_active=True).order_by("name")


class ContractFilterForm(forms.Form):
    """The list filters (GET). A tampered value is ignored rather than failing the page."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *ContractStatus.choices]
    )
    level = forms.ChoiceField(label=_("Level"), required=False, choices=[("", _("All levels")), *ContractLevel.choices])
    expiring = forms.ChoiceField(label=_("Ends"), required=False, choices=EXPIRING_CHOICES)

    def __init__(self, *args, show_drafts: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_drafts:
            self.fields["status"].choices = [
                choice for choice in self.fields["status"].choices if choice[0] != ContractStatus.DRAFT
            ]

    def filters(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "status": data.get("status") or "",
            "level": data.get("level") or "",
            "expiring_within": int(data["expiring"]) if data.get("expiring") else None,
        }


class ContractForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None)
    equipment = MachineChoiceField(
        label=_("Covered machines"),
        required=False,
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only the customer's own registered machines. A contract covers the machines it lists."),
    )
    level = forms.ChoiceField(label=_("Level"), choices=ContractLevel.choices, initial=ContractLevel.SILVER)
    sla_policy = forms.ModelChoiceField(
        label=_("SLA policy"),
        required=False,
        queryset=None,
        help_text=_("Empty: the policy for the customer's tier, else the default policy."),
    )
    starts_on = forms.DateField(label=_("Start"), widget=DateInput())
    ends_on = forms.DateField(label=_("End"), widget=DateInput())
    included_visits = forms.IntegerField(
        label=_("Included visits"), required=False, min_value=1, help_text=_("Empty: unlimited.")
    )
    maintenance_visits_per_year = forms.IntegerField(
        label=_("Maintenance visits a year"),
        required=False,
        min_value=1,
        max_value=12,
        help_text=_("Planned maintenance the contract includes (a contract maintenance plan spreads them)."),
    )
    parts_coverage = forms.ChoiceField(label=_("Parts coverage"), choices=PartsCoverage.choices)
    labour_covered = forms.BooleanField(label=_("Labour covered"), required=False, initial=True)
    price_list = forms.ModelChoiceField(label=_("Price list"), required=False, queryset=None)
    annual_fee = forms.DecimalField(
        label=_("Contract fee"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="CNY")
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, customer=None, fixed_customer: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers_for(user).order_by("name", "pk")
        machines = (
            equipment_for(user).filter(status=EquipmentStatus.REGISTERED).order_by("customer__name", "serial_number")
        )
        if customer is not None:
            machines = machines.filter(customer=customer)
        self.fields["equipment"].queryset = machines
        self.fields["sla_policy"].queryset = _active_policies()
        self.fields["price_list"].queryset = PriceList.objects.filter(is_active=True).order_by("-is_default", "name")
        if fixed_customer:
            # The customer of a contract never changes; only a new contract starts elsewhere.
            del self.fields["customer"]


class NotesForm(forms.Form):
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 5}))


class TerminateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class ExtendForm(forms.Form):
    ends_on = forms.DateField(label=_("End of the next period"), widget=DateInput())
    level = forms.ChoiceField(label=_("Level"), choices=ContractLevel.choices)
    sla_policy = forms.ModelChoiceField(label=_("SLA policy"), queryset=None)
    included_visits = forms.IntegerField(
        label=_("Included visits"), required=False, min_value=1, help_text=_("Empty: unlimited.")
    )
    maintenance_visits_per_year = forms.IntegerField(
        label=_("Maintenance visits a year"),
        required=False,
        min_value=1,
        max_value=12,
        help_text=_("Planned maintenance the contract includes (a contract maintenance plan spreads them)."),
    )
    annual_fee = forms.DecimalField(
        label=_("Contract fee"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sla_policy"].queryset = _active_policies()


class ExpiringForm(forms.Form):
    days = forms.IntegerField(label=_("Ending within (days)"), required=False, min_value=1, max_value=365)


class PriceListForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="CNY")
    is_default = forms.BooleanField(
        label=_("Default price list"),
        required=False,
        help_text=_("New contracts get the default price list; chargeable visits without a contract use it."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["is_active"]


class PriceItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=PriceItemKind.choices)
    part = forms.ModelChoiceField(label=_("Part"), required=False, queryset=None, help_text=_("For part prices only."))
    name = forms.CharField(
        label=_("Service item"), required=False, max_length=100, help_text=_("For service items only.")
    )
    area = forms.ModelChoiceField(
        label=_("Zone"), required=False, queryset=None, help_text=_("For a zone's fixed travel fee only.")
    )
    service_type = forms.ChoiceField(
        label=_("Service type"), required=False, choices=[("", _("Any"))] + list(ServiceType.choices)
    )
    engineer_level = forms.ChoiceField(
        label=_("Engineer level"), required=False, choices=[("", _("Any"))] + list(EngineerLevel.choices)
    )
    unit_price = forms.DecimalField(label=_("Unit price"), min_value=0, max_digits=12, decimal_places=2)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["part"].queryset = parts_for(user).filter(is_active=True).order_by("part_number")
        self.fields["area"].queryset = service_areas()


class PriceEditForm(forms.Form):
    unit_price = forms.DecimalField(label=_("Unit price"), min_value=0, max_digits=12, decimal_places=2)
