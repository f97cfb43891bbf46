"""Forms parse input for the views; the services decide what is allowed."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.webhooks.choices import DELIVERY_EVENTS, DeliveryStatus, WebhookEvent
from fieldservice.webhooks.models import NAME_MAX_LENGTH, URL_MAX_LENGTH


class SubscriptionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX_LENGTH, help_text=_("Who receives it, e.g. “ERP”."))
    # A plain text field: the service checks the address (scheme, and that it is not this server).
    url = forms.CharField(
        label=_("URL"),
        max_length=URL_MAX_LENGTH,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text=_("The receiver's address; it gets a signed POST for each event."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class DeliveryFilterForm(forms.Form):
    """The delivery log filters. An invalid value is ignored rather than failing the page."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *DeliveryStatus.choices]
    )
    event = forms.ChoiceField(label=_("Event"), required=False, choices=[("", _("All events")), *DELIVERY_EVENTS])

    def filters(self) -> dict:
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}


class SubscriptionFilterForm(forms.Form):
    active = forms.ChoiceField(
        label=_("Active"),
        required=False,
        choices=[("", _("All")), ("yes", _("Active")), ("no", _("Paused"))],
    )

    def filters(self) -> dict:
        if not self.is_bound:
            return {}
        self.is_valid()
        value = self.cleaned_data.get("active")
        return {"active": value == "yes"} if value else {}
