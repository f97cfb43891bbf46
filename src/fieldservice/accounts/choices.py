from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    OWN = "own", _("Our company")
    PROVIDER = "provider", _("Service provider")
    CUSTOMER = "customer", _("Customer company")


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Service agent")
    DISPATCHER = "dispatcher", _("Dispatcher")
    ENGINEER = "engineer", _("Field engineer")
    PROVIDER_ADMIN = "provider_admin", _("Provider administrator")
    PARTS_KEEPER = "parts_keeper", _("Parts keeper")
    DIRECTOR = "director", _("Service director")
    ADMINISTRATOR = "administrator", _("Administrator")


# Which roles belong to which kind of organisation. A user's roles must fit their organisation.
ROLES_BY_ORGANISATION_KIND = {
    OrganisationKind.OWN: {
        Role.AGENT,
        Role.DISPATCHER,
        Role.ENGINEER,
        Role.PARTS_KEEPER,
        Role.DIRECTOR,
        Role.ADMINISTRATOR,
    },
    OrganisationKind.PROVIDER: {Role.PROVIDER_ADMIN, Role.ENGINEER},
    OrganisationKind.CUSTOMER: {Role.CUSTOMER},
}


class EngineerLevel(models.TextChoices):
    """An engineer's grade; labour is priced by it (and by the service type)."""

    JUNIOR = "junior", _("Junior engineer")
    REGULAR = "regular", _("Engineer")
    SENIOR = "senior", _("Senior engineer")
    EXPERT = "expert", _("Expert")


class Availability(models.TextChoices):
    ON_DUTY = "on_duty", _("On duty")
    OFF = "off", _("Off duty")
    ON_LEAVE = "on_leave", _("On leave")


WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAY_LABELS = {
    "mon": _("Monday"),
    "tue": _("Tuesday"),
    "wed": _("Wednesday"),
    "thu": _("Thursday"),
    "fri": _("Friday"),
    "sat": _("Saturday"),
    "sun": _("Sunday"),
}


# Labels of the actions this app records in the event log and the service log
# (registered with core.events in apps.py).
ACTION_LABELS = {
    "roles_changed": _("roles changed"),
    "skills_changed": _("skills changed"),
    "revoked": _("revoked"),
}
