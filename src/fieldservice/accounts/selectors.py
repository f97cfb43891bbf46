"""What each user may see of people, organisations and teams."""

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.choices import OrganisationKind, Role
from fieldservice.accounts.models import ApiToken, EngineerProfile, Organisation, ServiceTeam, User
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
    teams = ServiceTeam.objects.select_related("organisation", "leader").annotate(
        engineer_count=Count("engineers", distinct=True)
    )
    if can(actor, Capability.VIEW_PEOPLE) and actor.is_own_staff:
        return teams
    if can(actor, Capability.MANAGE_PROVIDER_ENGINEERS):
        return teams.filter(organisation_id=actor.organisation_id)
    return teams.filter(Q(engineers__user=actor) | Q(leader=actor)).distinct()


def api_tokens_for(actor: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=actor)
