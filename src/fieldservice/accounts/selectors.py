"""What each user may see of people, organisations and teams."""

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.choices import OrganisationKind, Role
from fieldservice.accounts.models import (
    ApiToken,
    EngineerProfile,
    Organisation,
    ServiceArea,
    ServiceTeam,
    Skill,
    User,
)
from fieldservice.accounts.permissions import Capability, can


def users_for(actor: User) -> QuerySet[User]:
    users = User.objects.select_related("organisation").prefetch_related("roles")
    if can(actor, Capability.VIEW_PEOPLE) and actor.is_own_staff:
        return users
    if can(actor, Capability.MANAGE_PROVIDER_ENGINEERS):
        return users.filter(organisation_id=actor.organisation_id)
    return users.filter(pk=actor.pk)


def get_user_for(actor: User, pk: int) -> User:
    return get_object_or_404(users_for(actor), pk=pk)


def engineers_for(actor: User) -> QuerySet[EngineerProfile]:
    profiles = EngineerProfile.objects.select_related("user", "user__organisation", "team").filter(
        user__roles__role=Role.ENGINEER
    )
    return profiles.filter(user__in=users_for(actor)).distinct()


def get_engineer_for(actor: User, pk: int) -> EngineerProfile:
    return get_object_or_404(engineers_for(actor).prefetch_related("skills__skill", "areas"), pk=pk)


def organisations_for(actor: User) -> QuerySet[Organisation]:
    if can(actor, Capability.VIEW_PEOPLE) and actor.is_own_staff:
        return Organisation.objects.all()
    return Organisation.objects.filter(pk=actor.organisation_id)


def providers_for(actor: User) -> QuerySet[Organisation]:
    return organisations_for(actor).filter(kind=OrganisationKind.PROVIDER)


def teams_for(actor: User) -> QuerySet[ServiceTeam]:
    # Explicit order: Meta.ordering does not apply to a grouped (annotated) query.
    teams = (
        ServiceTeam.objects.select_related("organisation", "leader")
        .annotate(engineer_count=Count("engineers", distinct=True))
        .order_by("organisation__kind", "organisation__name", "name", "pk")
    )
    if can(actor, Capability.VIEW_PEOPLE) and actor.is_own_staff:
        return teams
    if can(actor, Capability.MANAGE_PROVIDER_ENGINEERS):
        return teams.filter(organisation_id=actor.organisation_id)
    return teams.filter(Q(engineers__user=actor) | Q(leader=actor)).distinct()


def get_team_for(actor: User, pk: int) -> ServiceTeam:
    return get_object_or_404(teams_for(actor), pk=pk)


def api_tokens_for(actor: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=actor)


def get_api_token_for(actor: User, pk: int) -> ApiToken:
    return get_object_or_404(api_tokens_for(actor), pk=pk)


def skills() -> QuerySet[Skill]:
    """Reference data every signed-in user may read."""
    return Skill.objects.all()


def service_areas() -> QuerySet[ServiceArea]:
    return ServiceArea.objects.all()


def search_users(users: QuerySet[User], query: str) -> QuerySet[User]:
    query = (query or "").strip()
    if not query:
        return users
    return users.filter(
        Q(username__icontains=query)
        | Q(display_name__icontains=query)
        | Q(first_name__icontains=query)
        | Q(last_name__icontains=query)
        | Q(phone__icontains=query)
        | Q(email__icontains=query)
    )


def search_engineers(profiles: QuerySet[EngineerProfile], query: str) -> QuerySet[EngineerProfile]:
    query = (query or "").strip()
    if not query:
        return profiles
    return profiles.filter(
        Q(user__username__icontains=query)
        | Q(user__display_name__icontains=query)
        | Q(user__first_name__icontains=query)
        | Q(user__last_name__icontains=query)
        | Q(user__phone__icontains=query)
        | Q(home_address__icontains=query)
    )


def filter_engineers(
    profiles: QuerySet[EngineerProfile],
    *,
    team: int | None = None,
    skill: str | None = None,
    availability: str | None = None,
    organisation: int | None = None,
) -> QuerySet[EngineerProfile]:
    """The filters the engineer list and the API share. `skill` is a skill code."""
    if team:
        profiles = profiles.filter(team_id=team)
    if skill:
        profiles = profiles.filter(skills__skill__code=skill)
    if availability:
        profiles = profiles.filter(availability=availability)
    if organisation:
        profiles = profiles.filter(user__organisation_id=organisation)
    return profiles.distinct()


def own_company() -> Organisation | None:
    """Our own company, whose name and service line the public pages show."""
    return Organisation.objects.filter(kind=OrganisationKind.OWN, is_active=True).order_by("pk").first()
