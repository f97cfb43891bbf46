import secrets
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.choices import Availability, EngineerLevel, OrganisationKind, Role


def default_language() -> str:
    # A callable, so the site's configured language is not frozen into a migration.
    return settings.LANGUAGE_CODE


class Organisation(models.Model):
    """A company: ours, a partner service provider, or a customer company.

    Every user belongs to exactly one; scoping starts from it.
    """

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["kind", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="organisation_unique_name_per_kind"),
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in. Roles come from `UserRole` rows; a user may hold several."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
    )
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default=default_language)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @cached_property
    def role_codes(self) -> frozenset[str]:
        if not self.pk:
            return frozenset()
        return frozenset(self.roles.values_list("role", flat=True))

    def has_role(self, role: str) -> bool:
        return role in self.role_codes

    @property
    def organisation_kind(self) -> str | None:
        return self.organisation.kind if self.organisation_id else None

    @property
    def is_own_staff(self) -> bool:
        return self.is_superuser or self.organisation_kind == OrganisationKind.OWN


class UserRole(models.Model):
    """One role held by a user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("user role")
        verbose_name_plural = _("user roles")
        ordering = ["user", "role"]
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="user_role_unique")]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_role_display()}"


class Skill(models.Model):
    """A skill an engineer can have at a level, e.g. hydraulics."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("skill")
        verbose_name_plural = _("skills")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ServiceArea(models.Model):
    """A region engineers cover, by province / city / district, or by a polygon drawn round it.

    `polygon` is a closed ring of [longitude, latitude] points (GeoJSON order, first = last);
    when set, a site is inside the area when its coordinates are inside the ring."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    district = models.CharField(_("district"), max_length=50, blank=True)
    polygon = models.JSONField(_("boundary"), default=list, blank=True)

    class Meta:
        verbose_name = _("service area")
        verbose_name_plural = _("service areas")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceTeam(models.Model):
    """A group of engineers with a lead, inside one organisation."""

    name = models.CharField(_("name"), max_length=100)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="teams"
    )
    leader = models.ForeignKey(
        User,
        verbose_name=_("team lead"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
    )
    areas = models.ManyToManyField(ServiceArea, verbose_name=_("service areas"), blank=True)

    class Meta:
        verbose_name = _("service team")
        verbose_name_plural = _("service teams")
        ordering = ["organisation", "name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="team_unique_name_per_org")]

    def __str__(self) -> str:
        return self.name


class EngineerProfile(models.Model):
    """What dispatch needs to know about an engineer: skills, areas, base, hours, availability."""

    user = models.OneToOneField(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="engineer_profile")
    team = models.ForeignKey(
        ServiceTeam,
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="engineers",
    )
    areas = models.ManyToManyField(ServiceArea, verbose_name=_("service areas"), blank=True)
    home_address = models.CharField(_("home base"), max_length=300, blank=True)
    home_latitude = models.DecimalField(
        _("home latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    home_longitude = models.DecimalField(
        _("home longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    # {"mon": [["08:30", "12:00"], ["13:00", "17:30"]], ...}; a missing day is a day off.
    working_hours = models.JSONField(_("weekly working hours"), default=dict, blank=True)
    availability = models.CharField(
        _("availability"), max_length=20, choices=Availability.choices, default=Availability.ON_DUTY
    )
    level = models.CharField(_("level"), max_length=10, choices=EngineerLevel.choices, default=EngineerLevel.REGULAR)

    class Meta:
        verbose_name = _("engineer profile")
        verbose_name_plural = _("engineer profiles")
        ordering = ["user__username"]

    def __str__(self) -> str:
        return str(self.user)


class EngineerSkill(models.Model):
    """An engineer's level (1-5) in one skill."""

    engineer = models.ForeignKey(EngineerProfile, on_delete=models.CASCADE, related_name="skills")
    skill = models.ForeignKey(Skill, verbose_name=_("skill"), on_delete=models.PROTECT)
    level = models.PositiveSmallIntegerField(_("level"), validators=[MinValueValidator(1), MaxValueValidator(5)])

    class Meta:
        verbose_name = _("engineer skill")
        verbose_name_plural = _("engineer skills")
        ordering = ["engineer", "skill"]
        constraints = [
            models.UniqueConstraint(fields=["engineer", "skill"], name="engineer_skill_unique"),
            models.CheckConstraint(condition=models.Q(level__gte=1, level__lte=5), name="engineer_skill_level_range"),
        ]

    def __str__(self) -> str:
        return f"{self.skill} {self.level}"


class ApiToken(models.Model):
    """A per-user token for machines and the mobile client. Only a hash is stored;
    the plain token is shown once, when it is created."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> str:
        return "fsm_" + secrets.token_urlsafe(32)


class PasswordResetRequest(models.Model):
    """One reset link asked for. Kept an hour or so to limit how often an address, or one client,
    can make us send reset mails: the form answers the same for every address, so without a
    limit it would mail-bomb any user."""

    email = models.EmailField(_("e-mail"), db_index=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("password reset request")
        verbose_name_plural = _("password reset requests")

    def __str__(self) -> str:
        return self.email
