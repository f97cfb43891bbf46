"""Forms for the dispatch pages. They only parse input; the services validate and act."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.choices import OrganisationKind, Role
from fieldservice.accounts.selectors import providers_for, users_for
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.workorders.choices import Priority, ServiceType


class QueueFilterForm(forms.Form):
    """The filters above the dispatch queue (GET)."""

    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=[("", _("All priorities")), *Priority.choices]
    )
    city = forms.ChoiceField(label=_("City"), required=False)
    service_type = forms.ChoiceField(
        label=_("Service type"), required=False, choices=[("", _("All service types")), *ServiceType.choices]
    )

    def __init__(self, *args, orders, **kwargs):
        super().__init__(*args, **kwargs)
        cities = sorted({city for city in orders.values_list("site__city", flat=True) if city})
        self.fields["city"].choices = [("", _("All cities")), *((city, city) for city in cities)]

    def filter(self, orders):
        """Apply the filters that parsed; a tampered value is ignored rather than failing the page."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("priority"):
            orders = orders.filter(priority=data["priority"])
        if data.get("city"):
            orders = orders.filter(site__city=data["city"])
        if data.get("service_type"):
            orders = orders.filter(service_type=data["service_type"])
        return orders


class EngineerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        if obj.organisation_id and obj.organisation.kind == OrganisationKind.PROVIDER:
            return f"{obj} ({obj.organisation})"
        return str(obj)


def engineers_for_order(actor, order):
    """Engineers who may be offered the order: ours and those of the customer's provider."""
    employers = Q(organisation__kind=OrganisationKind.OWN)
    if order.customer.service_provider_id:
        employers |= Q(organisation_id=order.customer.service_provider_id)
    return (
        users_for(actor)
        .filter(employers, is_active=True, roles__role=Role.ENGINEER)
        .distinct()
        .order_by("organisation__kind", "display_name", "username")
    )


class _OrderForm(forms.Form):
    def __init__(self, *args, actor, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        if "engineer" in self.fields:
            self.fields["engineer"].queryset = engineers_for_order(actor, order)


class DispatchEngineerForm(_OrderForm):
    engineer = EngineerChoiceField(label=_("Engineer"), queryset=None)
    note = forms.CharField(label=_("Note for the engineer"), required=False, max_length=1000)


class DispatchProviderForm(forms.Form):
    provider = forms.ModelChoiceField(label=_("Service provider"), queryset=None)
    note = forms.CharField(label=_("Note for the provider"), required=False, max_length=1000)

    def __init__(self, *args, actor, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.fields["provider"].queryset = providers_for(actor).filter(is_active=True)
        if order.customer.service_provider_id:
            self.fields["provider"].initial = order.customer.service_provider_id


class ReassignForm(_OrderForm):
    engineer = EngineerChoiceField(label=_("New lead engineer"), queryset=None)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class RevokeLeadForm(_OrderForm):
    # Not required here: the service says "Give a reason." on the field.
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class AddHelperForm(_OrderForm):
    engineer = EngineerChoiceField(label=_("Helper"), queryset=None)


class RevokeHelperForm(_OrderForm):
    assignment = forms.ModelChoiceField(label=_("Helper"), queryset=None)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)

    def __init__(self, *args, actor, order, **kwargs):
        super().__init__(*args, actor=actor, order=order, **kwargs)
        field = self.fields["assignment"]
        field.queryset = order.assignments.filter(
            role=AssignmentRole.HELPER, status__in=ACTIVE_ASSIGNMENT_STATUSES
        ).select_related("engineer")
        field.label_from_instance = lambda assignment: str(assignment.engineer)


class ProviderAssignForm(forms.Form):
    """A provider admin picks one of their own active engineers."""

    engineer = EngineerChoiceField(label=_("Engineer"), queryset=None)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["engineer"].queryset = (
            users_for(actor)
            .filter(organisation_id=actor.organisation_id, is_active=True, roles__role=Role.ENGINEER)
            .distinct()
            .order_by("display_name", "username")
        )


class ProviderRejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)
