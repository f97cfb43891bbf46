"""What a user may see of the optimisation runs: our dispatchers see our company's runs."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.models import ServiceArea, ServiceTeam, User
from fieldservice.planning.models import PlanningRun
from fieldservice.planning.permissions import may_plan


def runs_for(actor: User) -> QuerySet[PlanningRun]:
    if not may_plan(actor):
        return PlanningRun.objects.none()
    return PlanningRun.objects.select_related("team", "area", "requested_by", "applied_by").filter(
        requested_by__organisation_id=actor.organisation_id
    )


def get_run_for(actor: User, pk: int) -> PlanningRun:
    return get_object_or_404(runs_for(actor), pk=pk)


def teams_for(actor: User) -> QuerySet[ServiceTeam]:
    return ServiceTeam.objects.filter(organisation_id=actor.organisation_id).order_by("name")


def areas_for(actor: User) -> QuerySet[ServiceArea]:
    return ServiceArea.objects.order_by("name")
