"""Business rules for organisations, people, roles, teams and engineer profiles."""

import hashlib
import re
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.choices import (
    ROLES_BY_ORGANISATION_KIND,
    WEEKDAYS,
    Availability,
    OrganisationKind,
    Role,
)
from fieldservice.accounts.models import (
    ApiToken,
    EngineerProfile,
    EngineerSkill,
    Organisation,
    ServiceArea,
    ServiceTeam,
    Skill,
    User,
    UserRole,
)
from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.errors import require
from fieldservice.core.events import record_created, record_event, record_updated, snapshot
from fieldservice.core.validation import check_coordinates, normalise_phone

ORGANISATION_FIELDS = ["name", "kind", "phone", "address", "is_active"]
USER_FIELDS = ["username", "display_name", "email", "phone", "organisation", "language", "is_active"]
PROFILE_FIELDS = ["team", "home_address", "home_latitude", "home_longitude", "availability"]
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _may_manage_people_of(actor: User, organisation: Organisation | None) -> bool:
    if can(actor, Capability.MANAGE_PEOPLE):
        return True
    return (
        organisation is not None
        and can(actor, Capability.MANAGE_PROVIDER_ENGINEERS)
        and actor.organisation_id == organisation.pk
    )


@transaction.atomic
def create_organisation(*, actor: User, name: str, kind: str, phone: str = "", address: str = "") -> Organisation:
    require(can(actor, Capability.MANAGE_PEOPLE))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")}, code="required")
    if kind not in OrganisationKind.values:
        raise ValidationError({"kind": _("Unknown organisation kind.")}, code="invalid_choice")
    if Organisation.objects.filter(kind=kind, name=name).exists():
        raise ValidationError({"name": _("An organisation of this kind with this name exists.")}, code="duplicate")
    organisation = Organisation.objects.create(
        name=name, kind=kind, phone=normalise_phone(phone, field="phone") if phone else "", address=address
    )
    record_created(organisation, actor=actor, fields=ORGANISATION_FIELDS)
    return organisation


def _check_roles(roles: Iterable[str], organisation: Organisation | None) -> list[str]:
    roles = sorted(set(roles))
    unknown = [role for role in roles if role not in Role.values]
    if unknown:
        raise ValidationError({"roles": _("Unknown role: %(role)s.") % {"role": unknown[0]}}, code="invalid_choice")
    if roles and organisation is None:
        raise ValidationError({"organisation": _("A user with roles needs an organisation.")}, code="required")
    if organisation is not None:
        allowed = ROLES_BY_ORGANISATION_KIND[OrganisationKind(organisation.kind)]
        wrong = [role for role in roles if role not in allowed]
        if wrong:
            raise ValidationError(
                {
                    "roles": _("The role %(role)s does not fit a %(kind)s.")
                    % {"role": Role(wrong[0]).label, "kind": organisation.get_kind_display()}
                },
                code="role_not_allowed",
            )
    return roles


@transaction.atomic
def create_user(
    *,
    actor: User | None,
    username: str,
    organisation: Organisation | None,
    roles: Iterable[str] = (),
    password: str | None = None,
    display_name: str = "",
    email: str = "",
    phone: str = "",
    language: str = "",
) -> User:
    """Create a user with roles. `actor=None` is only for bootstrapping (demo, createsuperuser)."""
    if actor is not None:
        require(_may_manage_people_of(actor, organisation))
        if not can(actor, Capability.MANAGE_PEOPLE):
            roles = [role for role in roles if role == Role.ENGINEER] or [Role.ENGINEER]
    username = (username or "").strip()
    errors = {}
    if not username:
        errors["username"] = _("Enter a user name.")
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = _("This user name is taken.")
    if errors:
        raise ValidationError(errors)
    role_list = _check_roles(roles, organisation)
    user = User(
        username=username,
        organisation=organisation,
        display_name=display_name.strip(),
        email=(email or "").strip().lower(),
        phone=normalise_phone(phone, field="phone") if phone else "",
    )
    if language:
        user.language = language
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    UserRole.objects.bulk_create([UserRole(user=user, role=role) for role in role_list])
    record_created(
        user,
        actor=actor,
        fields=USER_FIELDS,
        related=organisation,
        note=", ".join(str(Role(r).label) for r in role_list),
    )
    return user


@transaction.atomic
def set_roles(user: User, *, actor: User, roles: Iterable[str]) -> User:
    require(can(actor, Capability.MANAGE_PEOPLE))
    wanted = _check_roles(roles, user.organisation)
    before = sorted(user.roles.values_list("role", flat=True))
    if before == wanted:
        return user
    user.roles.exclude(role__in=wanted).delete()
    UserRole.objects.bulk_create([UserRole(user=user, role=role) for role in wanted if role not in before])
    user.__dict__.pop("role_codes", None)
    record_event(
        user, actor=actor, action="roles_changed", changes={"roles": [before, wanted]}, related=user.organisation
    )
    return user


@transaction.atomic
def update_user(user: User, *, actor: User, **fields) -> User:
    require(_may_manage_people_of(actor, user.organisation) or actor.pk == user.pk)
    allowed = {"display_name", "email", "phone", "language", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed here.")})
    if "is_active" in fields and actor.pk == user.pk:
        raise ValidationError({"is_active": _("You cannot deactivate yourself.")})
    before = snapshot(user, USER_FIELDS)
    for name, value in fields.items():
        if name == "phone":
            value = normalise_phone(value, field="phone") if value else ""
        if name == "email":
            value = (value or "").strip().lower()
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save()
    record_updated(user, actor=actor, before=before, related=user.organisation)
    return user


@transaction.atomic
def create_team(*, actor: User, name: str, organisation: Organisation, leader: User | None = None) -> ServiceTeam:
    require(_may_manage_people_of(actor, organisation))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    if organisation.kind == OrganisationKind.CUSTOMER:
        raise ValidationError({"organisation": _("Customer companies have no service teams.")})
    if ServiceTeam.objects.filter(organisation=organisation, name=name).exists():
        raise ValidationError({"name": _("This organisation already has a team with this name.")})
    if leader is not None and leader.organisation_id != organisation.pk:
        raise ValidationError({"leader": _("The team lead must belong to the team's organisation.")})
    team = ServiceTeam.objects.create(name=name, organisation=organisation, leader=leader)
    record_created(team, actor=actor, fields=["name", "organisation", "leader"], related=organisation)
    return team


def check_working_hours(hours: dict) -> dict:
    """Validate {"mon": [["08:30", "17:30"], ...], ...}: known days, HH:MM, start < end, no overlap."""
    if not isinstance(hours, dict):
        raise ValidationError({"working_hours": _("Working hours must map weekdays to time ranges.")})
    cleaned = {}
    for day, ranges in hours.items():
        if day not in WEEKDAYS:
            raise ValidationError({"working_hours": _("Unknown weekday: %(day)s.") % {"day": day}})
        if not isinstance(ranges, list):
            raise ValidationError({"working_hours": _("%(day)s: expected a list of ranges.") % {"day": day}})
        parsed = []
        for item in ranges:
            if (
                not isinstance(item, list | tuple)
                or len(item) != 2
                or not all(isinstance(t, str) and TIME_RE.match(t) for t in item)
            ):
                raise ValidationError(
                    {"working_hours": _("%(day)s: each range is two times like 08:30.") % {"day": day}}
                )
            start, end = item
            if start >= end:
                raise ValidationError(
                    {
                        "working_hours": _("%(day)s: %(start)s-%(end)s ends before it starts.")
                        % {"day": day, "start": start, "end": end}
                    }
                )
            parsed.append([start, end])
        parsed.sort()
        for (_s1, e1), (s2, _e2) in zip(parsed, parsed[1:], strict=False):
            if s2 < e1:
                raise ValidationError({"working_hours": _("%(day)s: time ranges overlap.") % {"day": day}})
        if parsed:
            cleaned[day] = parsed
    return cleaned


@transaction.atomic
def save_engineer_profile(
    user: User,
    *,
    actor: User,
    team: ServiceTeam | None = None,
    home_address: str = "",
    home_latitude: Decimal | float | None = None,
    home_longitude: Decimal | float | None = None,
    working_hours: dict | None = None,
    areas: Iterable[ServiceArea] | None = None,
    skills: dict[Skill, int] | None = None,
) -> EngineerProfile:
    """Create or replace an engineer's profile. `skills` maps a skill to a level 1-5."""
    require(_may_manage_people_of(actor, user.organisation))
    if not user.has_role(Role.ENGINEER):
        raise ValidationError({"user": _("Only engineers have an engineer profile.")})
    if team is not None and team.organisation_id != user.organisation_id:
        raise ValidationError({"team": _("The team must belong to the engineer's organisation.")})
    latitude, longitude = check_coordinates(home_latitude, home_longitude, fields=("home_latitude", "home_longitude"))
    hours = check_working_hours(working_hours or {})
    if skills:
        for skill, level in skills.items():
            if not isinstance(level, int) or not 1 <= level <= 5:
                raise ValidationError({"skills": _("%(skill)s: the level must be 1 to 5.") % {"skill": skill}})
    profile, created = EngineerProfile.objects.get_or_create(user=user)
    before = snapshot(profile, PROFILE_FIELDS)
    before_skills = {str(s.skill): s.level for s in profile.skills.select_related("skill")}
    profile.team = team
    profile.home_address = home_address.strip()
    profile.home_latitude = latitude
    profile.home_longitude = longitude
    profile.working_hours = hours
    profile.save()
    if areas is not None:
        profile.areas.set(areas)
    if skills is not None:
        profile.skills.all().delete()
        EngineerSkill.objects.bulk_create(
            [EngineerSkill(engineer=profile, skill=skill, level=level) for skill, level in skills.items()]
        )
    after_skills = {str(s.skill): s.level for s in profile.skills.select_related("skill")}
    if created:
        record_created(profile, actor=actor, fields=PROFILE_FIELDS, related=user)
    else:
        record_updated(profile, actor=actor, before=before, related=user)
    if before_skills != after_skills:
        record_event(
            profile,
            actor=actor,
            action="skills_changed",
            changes={"skills": [before_skills, after_skills]},
            related=user,
        )
    return profile


@transaction.atomic
def set_availability(profile: EngineerProfile, *, actor: User, availability: str) -> EngineerProfile:
    require(actor.pk == profile.user_id or _may_manage_people_of(actor, profile.user.organisation))
    if availability not in Availability.values:
        raise ValidationError({"availability": _("Unknown availability.")})
    before = snapshot(profile, ["availability"])
    profile.availability = availability
    profile.save(update_fields=["availability"])
    record_updated(profile, actor=actor, before=before, related=profile.user)
    return profile


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_api_token(user: User, *, actor: User, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the plain token, which is never shown again."""
    require(actor.pk == user.pk or can(actor, Capability.MANAGE_PEOPLE))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Name the token, e.g. after the device or system using it.")})
    plain = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=plain[:12], digest=_digest(plain))
    record_event(token, actor=actor, action="created", related=user, note=name)
    return token, plain


@transaction.atomic
def revoke_api_token(token: ApiToken, *, actor: User) -> ApiToken:
    require(actor.pk == token.user_id or can(actor, Capability.MANAGE_PEOPLE))
    if token.revoked_at is not None:
        from fieldservice.core.errors import DomainError

        raise DomainError("already_revoked", _("This token is already revoked."))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record_event(token, actor=actor, action="revoked", related=token.user)
    return token


def user_for_api_token(plain: str) -> User | None:
    """The active user a token belongs to, or None. Marks the token used (at most once a minute)."""
    if not plain or not plain.startswith("fsm_"):
        return None
    token = (
        ApiToken.objects.select_related("user", "user__organisation")
        .filter(digest=_digest(plain), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
