"""Forms parse input for the request and work order pages; the services decide what is allowed."""

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.assets.models import Equipment
from fieldservice.assets.selectors import equipment_for, registered_equipment_for
from fieldservice.core.validation import parse_id
from fieldservice.customers.models import Contact, Customer, Site
from fieldservice.customers.selectors import contacts_for, customers_for, sites_for
from fieldservice.workorders.choices import (
    DESK_CHANNELS,
    Channel,
    HoldReason,
    Priority,
    RequestStatus,
    ServiceType,
    WorkOrderStatus,
)
from fieldservice.workorders.models import FaultCategory
from fieldservice.workorders.selectors import fault_categories

TO_DISPATCH = "to_dispatch"


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several files from one input. Each is parsed here; the service checks that they are
    images and how many there are."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class EquipmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.product_model.code} #{obj.serial_number}"


class ContactChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.phone}"


class EquipmentWithCustomerField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.product_model.code} #{obj.serial_number} · {obj.customer.name}"


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.address}"


def category_name(category: FaultCategory) -> str:
    if category.name_en and (get_language() or "").startswith("en"):
        return category.name_en
    return category.name


def fault_category_choices() -> list[tuple]:
    """Active categories in tree order, children indented under their parent."""
    categories = list(fault_categories().order_by("code"))
    known = {category.pk for category in categories}
    children: dict[int | None, list[FaultCategory]] = {}
    for category in categories:
        parent = category.parent_id if category.parent_id in known else None
        children.setdefault(parent, []).append(category)
    choices: list[tuple] = [("", "—")]

    def walk(parent: int | None, depth: int) -> None:
        for category in children.get(parent, []):
            choices.append((category.pk, "\u00a0\u00a0\u00a0" * depth + category_name(category)))
            walk(category.pk, depth + 1)

    walk(None, 0)
    return choices


def _limit(field: forms.ModelChoiceField, queryset, empty_label) -> None:
    """Offer only `queryset`; any visible row still validates, so the service can say what is
    wrong with a stale or hand-made choice."""
    field.widget.choices = [("", empty_label), *((obj.pk, field.label_from_instance(obj)) for obj in queryset)]


class RequestForm(forms.Form):
    """A request taken by an agent (phone, e-mail) or filed by a provider or a customer user."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    channel = forms.ChoiceField(label=_("Channel"), choices=[(c.value, c.label) for c in DESK_CHANNELS])
    contact = ContactChoiceField(label=_("Contact"), queryset=Contact.objects.none(), required=False)
    reporter_name = forms.CharField(label=_("Caller's name"), max_length=100, required=False)
    reporter_phone = forms.CharField(label=_("Caller's phone"), max_length=32, required=False)
    equipment = EquipmentChoiceField(label=_("Equipment"), queryset=Equipment.objects.none(), required=False)
    service_type = forms.ChoiceField(label=_("Service type"), choices=ServiceType.choices, initial=ServiceType.REPAIR)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    urgency = forms.CharField(
        label=_("Urgency"),
        max_length=300,
        required=False,
        help_text=_(
            "How urgent is it, in your words? For example: the line is stopped, or it can wait until next week."
        ),
    )
    fault_category = forms.ModelChoiceField(label=_("Fault category"), queryset=fault_categories(), required=False)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}))
    photos = PhotosField(label=_("Photos"), help_text=_("Up to 6 images."))
    resolution = forms.CharField(
        label=_("Resolution"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only for a question answered on the phone: how it was resolved."),
    )

    def __init__(self, *args, actor, customer: Customer | None = None, fixed_customer: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["customer"].queryset = customers_for(actor)
        self.fields["contact"].queryset = contacts_for(actor)
        self.fields["equipment"].queryset = equipment_for(actor)
        self.fields["fault_category"].widget.choices = fault_category_choices()
        if fixed_customer:
            self.fields["customer"].widget = forms.HiddenInput()
        kind = actor.organisation_kind
        if not actor.is_own_staff:
            # Providers and customers file through their own channel; it is not theirs to choose.
            own = Channel.PROVIDER if kind == OrganisationKind.PROVIDER else Channel.PORTAL
            self.fields["channel"].choices = [(own.value, own.label)]
            self.fields["channel"].initial = own.value
            self.fields["channel"].disabled = True
            self.fields["channel"].widget = forms.HiddenInput()
            del self.fields["resolution"]
            del self.fields["reporter_name"]
            del self.fields["reporter_phone"]
            # They say how urgent it is; our staff set the priority.
            del self.fields["priority"]
            own_companies = list(self.fields["customer"].queryset[:2]) if kind == OrganisationKind.CUSTOMER else []
            if own_companies and not self.is_bound and not self.initial.get("customer"):
                self.initial["customer"] = own_companies[0].pk
            if len(own_companies) == 1:
                # A customer files for his own company: nothing to choose.
                self.fields["customer"].widget = forms.HiddenInput()
        else:
            self.fields["channel"].initial = Channel.PHONE
            del self.fields["urgency"]
        chosen = customer or self._chosen_customer()
        if chosen is not None:
            _limit(self.fields["contact"], contacts_for(actor).filter(customer=chosen), "—")
            _limit(
                self.fields["equipment"],
                registered_equipment_for(actor).filter(customer=chosen).order_by("serial_number"),
                "—",
            )
        else:
            self.fields["contact"].widget.choices = [("", _("Choose a customer first"))]
            self.fields["equipment"].widget.choices = [("", _("Choose a customer first"))]

    def _chosen_customer(self) -> Customer | None:
        value = self.data.get("customer") if self.is_bound else self.initial.get("customer")
        if isinstance(value, Customer):
            return value
        if parse_id(value):
            return customers_for(self.actor).filter(pk=parse_id(value)).first()
        return None

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("resolution", None)
        return data


class RequestFilterForm(forms.Form):
    """The request list filters. An invalid value is ignored rather than failing the page."""

    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *RequestStatus.choices])
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", _("All")), *Channel.choices])
    customer = forms.ModelChoiceField(
        label=_("Customer"), required=False, queryset=Customer.objects.none(), empty_label=_("All customers")
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers_for(actor)

    def filters(self) -> dict:
        self.is_valid()
        return {name: value for name, value in getattr(self, "cleaned_data", {}).items() if value}


class WorkOrderFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), (TO_DISPATCH, _("To dispatch")), *WorkOrderStatus.choices],
    )
    priority = forms.ChoiceField(label=_("Priority"), required=False, choices=[("", _("All")), *Priority.choices])
    service_type = forms.ChoiceField(
        label=_("Service type"), required=False, choices=[("", _("All")), *ServiceType.choices]
    )
    customer = forms.ModelChoiceField(
        label=_("Customer"), required=False, queryset=Customer.objects.none(), empty_label=_("All customers")
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers_for(actor)

    def filters(self) -> dict:
        self.is_valid()
        return {name: value for name, value in getattr(self, "cleaned_data", {}).items() if value}


# Request actions -----------------------------------------------------------


class ConfirmRequestForm(forms.Form):
    contact = ContactChoiceField(
        label=_("Contact"), queryset=Contact.objects.none(), required=False, empty_label=_("No contact")
    )
    save_reporter_as_contact = forms.BooleanField(label=_("Save the reporter as a new contact"), required=False)

    def __init__(self, *args, actor, service_request, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts_for(actor)
        if service_request.customer_id:
            _limit(
                self.fields["contact"],
                contacts_for(actor).filter(customer_id=service_request.customer_id),
                _("No contact"),
            )


class AssignCustomerForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.none())
    equipment = EquipmentWithCustomerField(label=_("Equipment"), queryset=Equipment.objects.none(), required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers_for(actor)
        self.fields["equipment"].queryset = equipment_for(actor)
        _limit(
            self.fields["equipment"], registered_equipment_for(actor).order_by("customer__name", "serial_number"), "—"
        )


class ResolveRequestForm(forms.Form):
    resolution = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 2}))


class DiscardRequestForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000)


class WorkOrderCreateForm(forms.Form):
    site = SiteChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False)
    equipment = EquipmentChoiceField(label=_("Equipment"), queryset=Equipment.objects.none(), required=False)
    service_type = forms.ChoiceField(label=_("Service type"), choices=ServiceType.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, actor, service_request, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "site": service_request.equipment.site_id if service_request.equipment else None,
                "equipment": service_request.equipment_id,
                "service_type": service_request.service_type,
                "priority": service_request.priority,
                "description": service_request.description,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites_for(actor)
        self.fields["equipment"].queryset = equipment_for(actor)
        customer_id = service_request.customer_id
        _limit(
            self.fields["site"],
            sites_for(actor).filter(customer_id=customer_id, is_active=True),
            _("The machine's site"),
        )
        _limit(
            self.fields["equipment"],
            registered_equipment_for(actor).filter(customer_id=customer_id).order_by("serial_number"),
            "—",
        )


# Work order actions ----------------------------------------------------------


class HoldForm(forms.Form):
    hold_reason = forms.ChoiceField(label=_("Why does it wait?"), choices=HoldReason.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)


class NeededPartsForm(forms.Form):
    """The order's needed parts as text, one part a line: its part number, then the quantity (1
    when left out). The view finds the parts; the service checks the quantities."""

    parts = forms.CharField(
        label=_("Needed parts"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "P-1001 2"}),
        help_text=_("One part a line: the part number, then the quantity."),
    )

    def clean_parts(self) -> list[tuple[str, str]]:
        lines = []
        for text in self.cleaned_data["parts"].splitlines():
            words = text.replace("×", " ").split()
            if not words:
                continue
            if len(words) > 2:
                raise forms.ValidationError(
                    _("Write one part number and one quantity a line: %(line)s") % {"line": text.strip()},
                    code="invalid",
                )
            lines.append((words[0], words[1] if len(words) == 2 else "1"))
        return lines


# Public QR report -------------------------------------------------------------


class QrReportForm(forms.Form):
    """The fault report on the machine's public page. Nothing here says whose machine it is."""

    phone = forms.CharField(
        label=_("Your phone number"),
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    name = forms.CharField(
        label=_("Your name"), max_length=100, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    description = forms.CharField(label=_("What is wrong?"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    photos = PhotosField(
        label=_("Photos"),
        help_text=_("Up to 6 images."),
        widget=MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    # Shown once a code was sent (see public_views.report): it lets a genuine reporter through
    # while the machine's report limit is reached.
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=6,
        required=False,
        widget=forms.HiddenInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def offer_code(self, *, sent: bool) -> None:
        self.code_offered = True
        self.code_sent = sent
        if sent:
            self.fields["code"].widget = forms.TextInput(
                attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}
            )
