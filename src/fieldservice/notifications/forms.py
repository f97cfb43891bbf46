"""Forms for the notification pages. They parse input; the services validate and save."""

from django import forms
from django.utils.translation import gettext_lazy as _

from fieldservice.notifications.choices import ALWAYS_IN_APP, CHANNEL_DEFAULTS, Channel, DeliveryStatus, Event, ImKind
from fieldservice.notifications.models import BODY_MAX_LENGTH, SUBJECT_MAX_LENGTH
from fieldservice.notifications.services import is_enabled, preference_field

ON, OFF, INHERIT = "on", "off", ""


class TemplateForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX_LENGTH)
    body = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Django template syntax, e.g. {{ number }} or {% if site %}…{% endif %}."),
    )


class PreferencesForm(forms.Form):
    """One row for all events (on/off per channel), then one per event: as for all events, on or off."""

    def __init__(self, *args, rows: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.grid = []
        all_cells = []
        for channel, label in Channel.choices:
            name = preference_field("", channel)
            enabled = rows.get(("", channel), CHANNEL_DEFAULTS[channel])
            self.fields[name] = forms.BooleanField(
                label=label,
                required=False,
                initial=enabled,
                widget=forms.CheckboxInput(attrs={"aria-label": _("All events · %(label)s") % {"label": label}}),
            )
            all_cells.append({"name": name, "channel": channel})
        self.grid.append({"event": "", "label": _("All events"), "cells": all_cells})
        for event, event_label in Event.choices:
            cells = []
            for channel, label in Channel.choices:
                name = preference_field(event, channel)
                if channel == Channel.IN_APP and event in ALWAYS_IN_APP:
                    cells.append({"name": name, "channel": channel, "always": True})
                    continue
                value = rows.get((event, channel))
                self.fields[name] = forms.ChoiceField(
                    label=f"{event_label} · {label}",
                    required=False,
                    choices=[(INHERIT, _("As for all events")), (ON, _("On")), (OFF, _("Off"))],
                    initial=INHERIT if value is None else (ON if value else OFF),
                )
                self.fields[name].widget.attrs["aria-label"] = f"{event_label} · {label}"
                cells.append({"name": name, "channel": channel, "effective": is_enabled(rows, event, channel)})
            self.grid.append({"event": event, "label": event_label, "cells": cells})
        for row in self.grid:
            for cell in row["cells"]:
                cell["field"] = self[cell["name"]] if cell["name"] in self.fields else None

    def choices(self) -> dict[tuple[str, str], bool | None]:
        result = {}
        for channel in Channel.values:
            result[("", channel)] = bool(self.cleaned_data.get(preference_field("", channel)))
        for event in Event.values:
            for channel in Channel.values:
                name = preference_field(event, channel)
                if name in self.fields:
                    value = self.cleaned_data.get(name) or INHERIT
                    result[(event, channel)] = None if value == INHERIT else value == ON
        return result


class SecretFieldsMixin:
    """Secrets are write-only: the field is always empty; empty means "keep the stored one"."""

    def __init__(self, *args, secret_set: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.secret_set = secret_set
        self.fields["secret"].help_text = (
            _("A secret is set. Leave empty to keep it.") if secret_set else _("No secret is set.")
        )
        if not secret_set:
            del self.fields["clear_secret"]

    def secret_value(self) -> str | None:
        """The secret to store, or None to keep the current one."""
        if self.cleaned_data.get("clear_secret"):
            return ""
        return self.cleaned_data.get("secret") or None


class ImEndpointForm(SecretFieldsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=ImKind.choices, initial=ImKind.GENERIC)
    url = forms.CharField(
        label=_("Address"),
        max_length=500,
        help_text=_("The robot's webhook address, e.g. https://oapi.dingtalk.com/robot/send?access_token=…"),
    )
    secret = forms.CharField(
        label=_("Secret"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_secret = forms.BooleanField(label=_("Remove the secret"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class SmsGatewayForm(SecretFieldsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    url = forms.CharField(
        label=_("Address"),
        max_length=500,
        help_text=_('The gateway gets a signed POST with JSON {"phone": …, "text": …}.'),
    )
    secret = forms.CharField(
        label=_("Secret"),
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_secret = forms.BooleanField(label=_("Remove the secret"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class TestSmsForm(forms.Form):
    phone = forms.CharField(label=_("Phone"), max_length=32)


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *DeliveryStatus.choices]
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", _("All channels")), *Channel.choices])

    def filters(self) -> dict:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data.get(name) or "" for name in ("status", "channel")}
