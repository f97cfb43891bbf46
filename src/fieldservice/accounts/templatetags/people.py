"""How people data reads on a page and in an export: skills as "液压 3, 电气 2", hours per weekday."""

from django import template
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from fieldservice.accounts.choices import WEEKDAY_LABELS, WEEKDAYS, Availability

register = template.Library()

AVAILABILITY_BADGES = {Availability.ON_DUTY: "ok", Availability.ON_LEAVE: "warn", Availability.OFF: ""}


def skill_name(skill) -> str:
    if (get_language() or "").startswith("en") and skill.name_en:
        return skill.name_en
    return skill.name


@register.filter
def skill_levels(profile) -> str:
    """Uses the prefetched `skills__skill` when the queryset has it."""
    return ", ".join(f"{skill_name(item.skill)} {item.level}" for item in profile.skills.all())


@register.filter
def area_names(profile) -> str:
    return ", ".join(area.name for area in profile.areas.all())


@register.filter
def role_labels(user) -> str:
    """Uses the prefetched `roles` when the queryset has it."""
    return ", ".join(str(role.get_role_display()) for role in user.roles.all())


@register.filter
def availability_badge(profile) -> str:
    return AVAILABILITY_BADGES.get(profile.availability, "")


def hours_text(ranges) -> str:
    return ", ".join(f"{start}-{end}" for start, end in ranges or [])


@register.filter
def hours_rows(profile) -> list[tuple[str, str]]:
    """(weekday, "08:30-12:00, 13:00-17:30") for every day, "day off" when there are no hours."""
    hours = profile.working_hours or {}
    return [(str(WEEKDAY_LABELS[day]), hours_text(hours.get(day)) or _("Day off")) for day in WEEKDAYS]


def person_name(user) -> str:
    return str(user) if user is not None else ""
