"""Who may see which assignments, and which engineers suit an order."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from fieldservice.accounts.choices import Availability, OrganisationKind, Role
from fieldservice.accounts.models import EngineerProfile, User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.geo import great_circle_km
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES
from fieldservice.dispatch.models import Assignment, DispatchRule
from fieldservice.workorders.choices import OPEN_STATUSES
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.selectors import work_orders_for


def assignments_for(actor: User) -> QuerySet[Assignment]:
    assignments = Assignment.objects.select_related("work_order", "engineer", "provider")
    return assignments.filter(work_order__in=work_orders_for(actor))


def my_assignments(actor: User) -> QuerySet[Assignment]:
    """The engineer's own offered and accepted assignments."""
    return assignments_for(actor).filter(engineer=actor, status__in=ACTIVE_ASSIGNMENT_STATUSES)


def get_assignment_for(actor: User, pk: int) -> Assignment:
    return get_object_or_404(assignments_for(actor), pk=pk)


def provider_assignments_to_staff(actor: User) -> QuerySet[Assignment]:
    """Orders given to the actor's company that still need one of its engineers."""
    if not can(actor, Capability.ASSIGN_PROVIDER_ENGINEERS):
        return Assignment.objects.none()
    return assignments_for(actor).filter(
        provider_id=actor.organisation_id, engineer__isnull=True, status__in=ACTIVE_ASSIGNMENT_STATUSES
    )


@dataclass
class Candidate:
    engineer: User
    profile: EngineerProfile
    has_skill: bool
    skill_level: int | None
    covers_area: bool
    on_duty: bool
    open_orders: int
    distance_km: float | None

    @property
    def is_suitable(self) -> bool:
        return self.has_skill and self.covers_area and self.on_duty


def candidates_for(order: WorkOrder, actor: User, *, limit: int = 20) -> list[Candidate]:
    """Engineers of our company and of the order's customer's provider, best first: suitable
    (skill, area, on duty) before the rest, then fewer open orders, then nearer home bases."""
    if not can(actor, Capability.DISPATCH):
        return []
    skill = order.fault_category.skill if order.fault_category_id else None
    site = order.site
    # Our company's engineers (by kind, not the actor's organisation: a superuser may have none)
    # and those of the provider that serves this customer.
    employers = Q(user__organisation__kind=OrganisationKind.OWN)
    if order.customer.service_provider_id:
        employers |= Q(user__organisation_id=order.customer.service_provider_id)
    profiles = (
        EngineerProfile.objects.filter(employers, user__is_active=True, user__roles__role=Role.ENGINEER)
        .exclude(availability=Availability.ON_LEAVE)
        .select_related("user", "team")
        .prefetch_related("skills__skill", "areas")
        .annotate(
            open_orders=Count(
                "user__assignments",
                filter=Q(
                    user__assignments__status__in=ACTIVE_ASSIGNMENT_STATUSES,
                    user__assignments__work_order__status__in=OPEN_STATUSES,
                ),
                distinct=True,
            )
        )
        .distinct()
    )
    candidates = []
    for profile in profiles:
        levels = {s.skill_id: s.level for s in profile.skills.all()}
        areas = list(profile.areas.all())
        covers = (
            site is None
            or not site.city
            or any(
                (area.city and area.city in site.city)
                or (not area.city and area.province and area.province in site.province)
                for area in areas
            )
        )
        distance = None
        if (
            site is not None
            and None not in (site.latitude, site.longitude)
            and None not in (profile.home_latitude, profile.home_longitude)
        ):
            distance = round(
                great_circle_km(site.latitude, site.longitude, profile.home_latitude, profile.home_longitude), 1
            )
        candidates.append(
            Candidate(
                engineer=profile.user,
                profile=profile,
                has_skill=skill is None or skill.pk in levels,
                skill_level=levels.get(skill.pk) if skill else None,
                covers_area=covers,
                on_duty=profile.availability == Availability.ON_DUTY,
                open_orders=profile.open_orders,
                distance_km=distance,
            )
        )
    candidates.sort(
        key=lambda c: (not c.is_suitable, c.open_orders, c.distance_km if c.distance_km is not None else 1e9)
    )
    return candidates[:limit]


def rules_for(actor: User) -> QuerySet[DispatchRule]:
    """The auto-dispatch rules, in the order they are tried; none for who may not read them."""
    from fieldservice.dispatch.rule_services import may_view_rules

    if not may_view_rules(actor):
        return DispatchRule.objects.none()
    return DispatchRule.objects.select_related("target_engineer", "target_team", "target_provider")


def get_rule_for(actor: User, pk: int) -> DispatchRule:
    return get_object_or_404(rules_for(actor), pk=pk)
