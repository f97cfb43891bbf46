"""Forms for the people pages. They parse input; the services decide what is allowed."""

import re

from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from fieldservice.accounts.choices import WEEKDAY_LABELS, WEEKDAYS, Availability, EngineerLevel, OrganisationKind, Role
from fieldservice.accounts.services import check_working_hours
from fieldservice.accounts.templatetags.people import hours_text, skill_name

# "08:30-12:00", also with the dashes and tildes people type in Chinese input methods.
RANGE_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–—~～至到]\s*(\d{1,2}):(\d{2})$")
RANGE_SPLIT_RE = re.compile(r"[,，;；、\s]+(?=\d)")


def parse_hours(text: str, day: str) -> list[list[str]]:
    """ "08:30-12:00, 13:00-17:30" -> [["08:30", "12:00"], ["13:00", "17:30"]]."""
    ranges = []
    for part in RANGE_SPLIT_RE.split((text or "").strip()):
        part = part.strip()
        if not part:
            continue
        match = RANGE_RE.match(part)
        if not match:
            raise ValidationError(
                _("%(day)s: “%(text)s” is not a time range like 08:30-12:00.")
                % {"day": WEEKDAY_LABELS[day], "text": part},
                code="invalid_range",
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValidationError(
                _("%(day)s: “%(text)s” is not a time of day.") % {"day": WEEKDAY_LABELS[day], "text": part},
                code="invalid_time",
            )
        ranges.append([f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"])
    return ranges


def _password_fields() -> tuple[forms.CharField, forms.CharField]:
    widget = {"autocomplete": "new-password"}
    return (
        forms.CharField(label=_lazy("Initial password"), strip=False, widget=forms.PasswordInput(attrs=widget)),
        forms.CharField(label=_lazy("Initial password again"), strip=False, widget=forms.PasswordInput(attrs=widget)),
    )


class PasswordPairMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per request so the rules read in the user's language.
        self.fields["password"].help_text = password_validators_help_text_html()

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return data


class MyAccountForm(forms.Form):
    display_name = forms.CharField(label=_lazy("Display name"), max_length=100, required=False)
    email = forms.CharField(label=_lazy("E-mail"), max_length=254, required=False)
    phone = forms.CharField(label=_lazy("Phone"), max_length=32, required=False)
    language = forms.ChoiceField(
        label=_lazy("Language"),
        choices=settings.LANGUAGES,
        help_text=_lazy("Pages are shown in this language."),
    )


class AvailabilityForm(forms.Form):
    availability = forms.ChoiceField(label=_lazy("Availability"), choices=Availability.choices)


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_lazy("Token name"),
        max_length=100,
        help_text=_lazy("Name it after the device or system that will use it."),
    )


class UserCreateForm(PasswordPairMixin, forms.Form):
    username = forms.CharField(label=_lazy("User name"), max_length=150)
    display_name = forms.CharField(label=_lazy("Display name"), max_length=100, required=False)
    email = forms.CharField(label=_lazy("E-mail"), max_length=254, required=False)
    phone = forms.CharField(label=_lazy("Phone"), max_length=32, required=False)
    organisation = forms.ModelChoiceField(label=_lazy("Organisation"), queryset=None)
    roles = forms.MultipleChoiceField(
        label=_lazy("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    password, password2 = _password_fields()

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class EngineerCreateForm(PasswordPairMixin, forms.Form):
    """A new field engineer. Administrators pick the company; a provider admin's is their own."""

    username = forms.CharField(label=_lazy("User name"), max_length=150)
    display_name = forms.CharField(label=_lazy("Display name"), max_length=100, required=False)
    email = forms.CharField(label=_lazy("E-mail"), max_length=254, required=False)
    phone = forms.CharField(label=_lazy("Phone"), max_length=32, required=False)
    organisation = forms.ModelChoiceField(label=_lazy("Organisation"), queryset=None)
    password, password2 = _password_fields()

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organisations is None:
            del self.fields["organisation"]
        else:
            self.fields["organisation"].queryset = organisations.exclude(kind=OrganisationKind.CUSTOMER)


class UserEditForm(forms.Form):
    display_name = forms.CharField(label=_lazy("Display name"), max_length=100, required=False)
    email = forms.CharField(label=_lazy("E-mail"), max_length=254, required=False)
    phone = forms.CharField(label=_lazy("Phone"), max_length=32, required=False)
    language = forms.ChoiceField(label=_lazy("Language"), choices=settings.LANGUAGES)
    is_active = forms.BooleanField(
        label=_lazy("Active"), required=False, help_text=_lazy("Inactive users cannot sign in or use API tokens.")
    )
    roles = forms.MultipleChoiceField(
        label=_lazy("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False
    )


class TeamForm(forms.Form):
    name = forms.CharField(label=_lazy("Name"), max_length=100)
    organisation = forms.ModelChoiceField(label=_lazy("Organisation"), queryset=None)
    leader = forms.ModelChoiceField(label=_lazy("Team lead"), queryset=None, required=False)

    def __init__(self, *args, organisations, leaders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations.exclude(kind=OrganisationKind.CUSTOMER)
        self.fields["leader"].queryset = leaders


class EngineerProfileForm(forms.Form):
    """Team, home base, areas, a level per skill (0 = none) and a line of hours per weekday."""

    team = forms.ModelChoiceField(label=_lazy("Team"), queryset=None, required=False)
    # Left empty, the engineer keeps his level.
    level = forms.ChoiceField(
        label=_lazy("Level"),
        choices=EngineerLevel.choices,
        required=False,
        help_text=_lazy("Labour is priced by the engineer's level."),
    )
    home_address = forms.CharField(label=_lazy("Home base"), max_length=300, required=False)
    home_latitude = forms.DecimalField(label=_lazy("Home latitude"), required=False)
    home_longitude = forms.DecimalField(label=_lazy("Home longitude"), required=False)
    areas = forms.ModelMultipleChoiceField(
        label=_lazy("Service areas"), queryset=None, required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )

    def __init__(self, *args, teams, areas, skills, profile=None, **kwargs):
        if profile is not None and not kwargs.get("initial"):
            kwargs["initial"] = self.initial_for(profile)
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["areas"].queryset = areas
        self.skills = list(skills)
        for skill in self.skills:
            self.fields[f"skill_{skill.pk}"] = forms.IntegerField(
                label=skill_name(skill), min_value=0, max_value=5, required=False, initial=0
            )
        for day in WEEKDAYS:
            self.fields[f"hours_{day}"] = forms.CharField(
                label=WEEKDAY_LABELS[day],
                required=False,
                max_length=200,
                widget=forms.TextInput(attrs={"placeholder": "08:30-12:00, 13:00-17:30"}),
            )

    @staticmethod
    def initial_for(profile) -> dict:
        initial = {
            "team": profile.team_id,
            "level": profile.level,
            "home_address": profile.home_address,
            "home_latitude": profile.home_latitude,
            "home_longitude": profile.home_longitude,
            "areas": list(profile.areas.all()),
        }
        for item in profile.skills.all():
            initial[f"skill_{item.skill_id}"] = item.level
        for day, ranges in (profile.working_hours or {}).items():
            initial[f"hours_{day}"] = hours_text(ranges)
        return initial

    def main_fields(self):
        return [self[name] for name in ("team", "level", "home_address", "home_latitude", "home_longitude", "areas")]

    def skill_fields(self):
        return [self[f"skill_{skill.pk}"] for skill in self.skills]

    def hours_fields(self):
        return [self[f"hours_{day}"] for day in WEEKDAYS]

    def clean(self):
        data = super().clean()
        hours = {}
        for day in WEEKDAYS:
            name = f"hours_{day}"
            if name not in data:
                continue
            try:
                ranges = parse_hours(data[name], day)
                if ranges:
                    hours.update(check_working_hours({day: ranges}))
            except ValidationError as exc:
                self.add_error(name, exc.messages)
        data["working_hours"] = hours
        data["skills"] = {skill: data[f"skill_{skill.pk}"] for skill in self.skills if data.get(f"skill_{skill.pk}")}
        return data
