"""Business rules for organisations, people, roles, teams and engineer profiles."""

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts import hooks
from fieldservice.accounts.choices import (
    ROLES_BY_ORGANISATION_KIND,
    WEEKDAY_LABELS,
    WEEKDAYS,
    Availability,
    EngineerLevel,
    OrganisationKind,
    Role,
)
from fieldservice.accounts.models import (
    ApiToken,
    EngineerProfile,
    EngineerSkill,
    Organisation,
    PasswordResetRequest,
    ServiceArea,
    ServiceTeam,
    Skill,
    User,
    UserRole,
)
from fieldservice.accounts.permissions import Capability, can, may_manage_people_of, may_manage_user
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import record_created, record_event, record_updated, snapshot
from fieldservice.core.validation import check_coordinates, normalise_email, normalise_phone

ORGANISATION_FIELDS = ["name", "kind", "phone", "address", "is_active"]
USER_FIELDS = ["username", "display_name", "email", "phone", "organisation", "language", "is_active"]
PROFILE_FIELDS = ["team", "home_address", "home_latitude", "home_longitude", "availability", "level"]
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


PASSWORD_RESETS_PER_EMAIL_PER_HOUR = 3
PASSWORD_RESETS_PER_ADDRESS_PER_HOUR = 10


@transaction.atomic
def note_password_reset_request(*, email: str, client_address: str | None) -> None:
    """Count a reset link asked for by anyone (no acting user: the asker is not signed in), or
    refuse it when this e-mail address or this client asked too often in the last hour. Known and
    unknown addresses are counted alike, so the limit tells nothing about who has an account."""
    now = timezone.now()
    recent = PasswordResetRequest.objects.filter(created_at__gte=now - dt.timedelta(hours=1))
    email = email.strip().lower()
    if recent.filter(email=email).count() >= PASSWORD_RESETS_PER_EMAIL_PER_HOUR or (
        client_address and recent.filter(client_address=client_address).count() >= PASSWORD_RESETS_PER_ADDRESS_PER_HOUR
    ):
        raise DomainError("rate_limited", _("Too many reset links were asked for in the last hour. Try again later."))
    PasswordResetRequest.objects.filter(created_at__lt=now - dt.timedelta(days=1)).delete()
    PasswordResetRequest.objects.create(email=email, client_address=client_address)


def _collect(errors: dict, check, *args, **kwargs):
    """Run one field check, keeping its errors so a form shows every problem at once."""
    try:
        return check(*args, **kwargs)
    except ValidationError as exc:
        for field, field_errors in exc.error_dict.items():
            errors.setdefault(field, []).extend(field_errors)
        return None


def _role_labels(roles: Iterable[str]) -> str:
    return ", ".join(str(Role(role).label) for role in sorted(roles))


def _ensure_engineer_profile(user: User, *, actor: User | None) -> None:
    """Every engineer has a profile, so dispatch and the engineer list see them from day one."""
    if EngineerProfile.objects.filter(user=user).exists():
        return
    profile = EngineerProfile.objects.create(user=user)
    record_created(profile, actor=actor, fields=PROFILE_FIELDS, related=user)
    hooks.engineer_profile_created(profile)


@transaction.atomic
def create_organisation(*, actor: User, name: str, kind: str, phone: str = "", address: str = "") -> Organisation:
    require(can(actor, Capability.MANAGE_PEOPLE))
    name = (name or "").strip()
    if not name:
        raise field_error("name", _("Enter a name."), "required")
    if kind not in OrganisationKind.values:
        raise field_error("kind", _("Unknown organisation kind."), "invalid_choice")
    if Organisation.objects.filter(kind=kind, name=name).exists():
        raise field_error("name", _("An organisation of this kind with this name exists."), "duplicate")
    organisation = Organisation.objects.create(
        name=name, kind=kind, phone=normalise_phone(phone, field="phone") if phone else "", address=address
    )
    record_created(organisation, actor=actor, fields=ORGANISATION_FIELDS)
    return organisation


def _check_roles(roles: Iterable[str], organisation: Organisation | None) -> list[str]:
    roles = sorted(set(roles))
    unknown = [role for role in roles if role not in Role.values]
    if unknown:
        raise field_error("roles", _("Unknown role: %(role)s.") % {"role": unknown[0]}, "invalid_choice")
    if roles and organisation is None:
        raise field_error("organisation", _("A user with roles needs an organisation."), "required")
    if organisation is not None:
        allowed = ROLES_BY_ORGANISATION_KIND[OrganisationKind(organisation.kind)]
        wrong = [role for role in roles if role not in allowed]
        if wrong:
            message = _("The role %(role)s does not fit a %(kind)s.") % {
                "role": Role(wrong[0]).label,
                "kind": organisation.get_kind_display(),
            }
            raise field_error("roles", message, "role_not_allowed")
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
    """Create a user with roles. `actor=None` is only for bootstrapping (demo, createsuperuser),
    which also skips the password validators."""
    if actor is not None:
        require(may_manage_people_of(actor, organisation))
        if not can(actor, Capability.MANAGE_PEOPLE):
            # A provider admin only ever adds field engineers to their own company.
            roles = [Role.ENGINEER]
    username = (username or "").strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = [ValidationError(_("Enter a user name."), code="required")]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [ValidationError(_("This user name is taken."), code="duplicate")]
    role_list = _collect(errors, _check_roles, roles, organisation) or []
    phone = (_collect(errors, normalise_phone, phone, field="phone") or "") if (phone or "").strip() else ""
    email = _collect(errors, normalise_email, email, field="email") or ""
    user = User(
        username=username,
        organisation=organisation,
        display_name=(display_name or "").strip(),
        email=email,
        phone=phone,
    )
    if language:
        user.language = language
    if password:
        if actor is not None:
            _collect(errors, _check_password, password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    if errors:
        raise ValidationError(errors)
    user.full_clean(exclude=["password"])
    user.save()
    UserRole.objects.bulk_create([UserRole(user=user, role=role) for role in role_list])
    record_created(user, actor=actor, fields=USER_FIELDS, related=organisation, note=_role_labels(role_list))
    if Role.ENGINEER in role_list:
        _ensure_engineer_profile(user, actor=actor)
    return user


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list}) from None


@transaction.atomic
def set_roles(user: User, *, actor: User, roles: Iterable[str]) -> User:
    """Replace a user's roles. Setting the roles they already have changes and records nothing."""
    require(can(actor, Capability.MANAGE_PEOPLE))
    wanted = _check_roles(roles, user.organisation)
    before = sorted(user.roles.values_list("role", flat=True))
    if before == wanted:
        return user
    if actor.pk == user.pk and Role.ADMINISTRATOR in before and Role.ADMINISTRATOR not in wanted:
        # Otherwise the last administrator can lock everyone out of user management.
        raise field_error("roles", _("You cannot remove your own administrator role."), "self_demotion")
    user.roles.exclude(role__in=wanted).delete()
    UserRole.objects.bulk_create([UserRole(user=user, role=role) for role in wanted if role not in before])
    user.__dict__.pop("role_codes", None)
    record_event(
        user,
        actor=actor,
        action="roles_changed",
        changes={"roles": [_role_labels(before), _role_labels(wanted)]},
        related=user.organisation,
    )
    if Role.ENGINEER in wanted:
        _ensure_engineer_profile(user, actor=actor)
    return user


@transaction.atomic
def update_user(user: User, *, actor: User, **fields) -> User:
    """Change a user's details. Anyone may change their own, except deactivating themselves."""
    require(actor.pk == user.pk or may_manage_user(actor, user))
    allowed = {"display_name", "email", "phone", "language", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise field_error(sorted(unknown)[0], _("This field cannot be changed here."), "not_editable")
    if "is_active" in fields and actor.pk == user.pk and not fields["is_active"]:
        raise field_error("is_active", _("You cannot deactivate yourself."), "self_deactivation")
    errors: dict[str, list[str]] = {}
    if "phone" in fields:
        raw = (fields["phone"] or "").strip()
        fields["phone"] = (_collect(errors, normalise_phone, raw, field="phone") or "") if raw else ""
    if "email" in fields:
        fields["email"] = _collect(errors, normalise_email, fields["email"], field="email") or ""
    if "display_name" in fields:
        fields["display_name"] = (fields["display_name"] or "").strip()
    if errors:
        raise ValidationError(errors)
    before = snapshot(user, USER_FIELDS)
    for name, value in fields.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save()
    record_updated(user, actor=actor, before=before, related=user.organisation)
    return user


@transaction.atomic
def create_team(*, actor: User, name: str, organisation: Organisation, leader: User | None = None) -> ServiceTeam:
    require(may_manage_people_of(actor, organisation))
    name = (name or "").strip()
    if not name:
        raise field_error("name", _("Enter a name."), "required")
    if len(name) > 100:
        raise field_error("name", _("At most %(n)d characters.") % {"n": 100}, "max_length")
    if organisation.kind == OrganisationKind.CUSTOMER:
        raise field_error("organisation", _("Customer companies have no service teams."), "invalid")
    if ServiceTeam.objects.filter(organisation=organisation, name=name).exists():
        raise field_error("name", _("This organisation already has a team with this name."), "duplicate")
    if leader is not None and leader.organisation_id != organisation.pk:
        raise field_error("leader", _("The team lead must belong to the team's organisation."), "invalid")
    team = ServiceTeam.objects.create(name=name, organisation=organisation, leader=leader)
    record_created(team, actor=actor, fields=["name", "organisation", "leader"], related=organisation)
    return team


def _day_label(day) -> str:
    return str(WEEKDAY_LABELS.get(day, day))


def _hours_error(message: str, code: str) -> ValidationError:
    return field_error("working_hours", message, code)


def check_working_hours(hours: dict) -> dict:
    """Validate {"mon": [["08:30", "17:30"], ...], ...}: known days, HH:MM, start < end, no overlap."""
    if not isinstance(hours, dict):
        raise _hours_error(_("Working hours must map weekdays to time ranges."), "invalid")
    cleaned = {}
    for day, ranges in hours.items():
        if day not in WEEKDAYS:
            raise _hours_error(_("Unknown weekday: %(day)s.") % {"day": day}, "unknown_day")
        label = _day_label(day)
        if not isinstance(ranges, list):
            raise _hours_error(_("%(day)s: expected a list of ranges.") % {"day": label}, "invalid")
        parsed = []
        for item in ranges:
            if (
                not isinstance(item, list | tuple)
                or len(item) != 2
                or not all(isinstance(t, str) and TIME_RE.match(t) for t in item)
            ):
                raise _hours_error(_("%(day)s: each range is two times like 08:30.") % {"day": label}, "invalid_range")
            start, end = item
            if start >= end:
                raise _hours_error(
                    _("%(day)s: %(start)s-%(end)s ends before it starts.") % {"day": label, "start": start, "end": end},
                    "end_before_start",
                )
            parsed.append([start, end])
        parsed.sort()
        for (_s1, e1), (s2, _e2) in zip(parsed, parsed[1:], strict=False):
            if s2 < e1:
                raise _hours_error(_("%(day)s: time ranges overlap.") % {"day": label}, "overlap")
        if parsed:
            cleaned[day] = parsed
    # Stored in weekday order so the JSON reads like a week.
    return {day: cleaned[day] for day in WEEKDAYS if day in cleaned}


def _skills_text(levels: dict[str, int]) -> str:
    return ", ".join(f"{name} {level}" for name, level in sorted(levels.items()))


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
    level: str | None = None,
) -> EngineerProfile:
    """Create or replace an engineer's profile. `skills` maps a skill to a level 1-5;
    `areas`, `skills` or `level` (his grade, which prices labour) left as None keep what the
    profile has."""
    require(may_manage_people_of(actor, user.organisation))
    if not user.has_role(Role.ENGINEER):
        raise field_error("user", _("Only engineers have an engineer profile."), "invalid")
    errors: dict[str, list[str]] = {}
    grade = level  # `level` is reused for the skills' levels below
    if grade is not None and grade not in EngineerLevel.values:
        errors["level"] = [_("Unknown engineer level.")]
    if team is not None and team.organisation_id != user.organisation_id:
        errors["team"] = [_("The team must belong to the engineer's organisation.")]
    coordinates = _collect(
        errors, check_coordinates, home_latitude, home_longitude, fields=("home_latitude", "home_longitude")
    )
    latitude, longitude = coordinates or (None, None)
    hours = _collect(errors, check_working_hours, working_hours or {})
    for skill, level in (skills or {}).items():
        if not isinstance(skill, Skill):
            errors.setdefault("skills", []).append(_("Unknown skill: %(skill)s.") % {"skill": skill})
        elif isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
            errors.setdefault("skills", []).append(_("%(skill)s: the level must be 1 to 5.") % {"skill": skill})
    home_address = (home_address or "").strip()
    if len(home_address) > 300:
        errors["home_address"] = [_("At most %(n)d characters.") % {"n": 300}]
    if errors:
        raise ValidationError(errors)
    profile, created = EngineerProfile.objects.get_or_create(user=user)
    if created:
        hooks.engineer_profile_created(profile)
    before = snapshot(profile, PROFILE_FIELDS)
    before_skills = {str(s.skill): s.level for s in profile.skills.select_related("skill")}
    profile.team = team
    profile.home_address = home_address
    profile.home_latitude = latitude
    profile.home_longitude = longitude
    profile.working_hours = hours
    if grade is not None:
        profile.level = grade
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
            changes={"skills": [_skills_text(before_skills), _skills_text(after_skills)]},
            related=user,
        )
    return profile


@transaction.atomic
def set_engineer_level(profile: EngineerProfile, *, actor: User, level: str) -> EngineerProfile:
    """An engineer's grade (labour is priced by it): set by who manages his organisation's people."""
    require(may_manage_people_of(actor, profile.user.organisation))
    if level not in EngineerLevel.values:
        raise field_error("level", _("Unknown engineer level."), "invalid_choice")
    profile = EngineerProfile.objects.select_for_update().get(pk=profile.pk)
    before = snapshot(profile, ["level"])
    profile.level = level
    profile.save(update_fields=["level"])
    record_updated(profile, actor=actor, before=before, related=profile.user)
    return profile


@transaction.atomic
def set_availability(profile: EngineerProfile, *, actor: User, availability: str) -> EngineerProfile:
    require(actor.pk == profile.user_id or may_manage_people_of(actor, profile.user.organisation))
    if availability not in Availability.values:
        raise field_error("availability", _("Unknown availability."), "invalid_choice")
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
    # Only for oneself: a token minted by someone else would let them act as this user.
    require(actor.pk == user.pk and user.is_active)
    name = (name or "").strip()
    if not name:
        raise field_error("name", _("Name the token, e.g. after the device or system using it."), "required")
    plain = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=plain[:12], digest=_digest(plain))
    record_event(token, actor=actor, action="created", related=user, note=name)
    return token, plain


@transaction.atomic
def revoke_api_token(token: ApiToken, *, actor: User) -> ApiToken:
    require(actor.pk == token.user_id or can(actor, Capability.MANAGE_PEOPLE))
    if token.revoked_at is not None:
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
