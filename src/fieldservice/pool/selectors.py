"""Who sees which pool offers, who may grab them, and how far away they are.

Which company's engineers an offer is for (decided here, enforced again by `services.grab`):
- an offer with a `provider`: only that provider's engineers;
- an offer without one: our own engineers, plus the engineers of the provider that serves the
  order's customer (the same people `dispatch.assignments.selectors.candidates_for` suggests).
So a provider's engineer never sees an offer restricted to another provider, nor an open offer
for a customer their company does not serve.

Within that company scope an engineer sees the open, unexpired offers they qualify for: the
offer's skill at its minimum level (none = any), one of its areas (none = anywhere), not on leave.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fieldservice.accounts.choices import Availability, OrganisationKind, Role
from fieldservice.accounts.models import EngineerProfile, EngineerSkill, ServiceArea, User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.geo import great_circle_km
from fieldservice.pool.choices import ACTIVE_OFFER_STATUSES, OfferStatus
from fieldservice.pool.models import PoolOffer
from fieldservice.pool.permissions import may_manage_pool
from fieldservice.sla.models import SlaClock
from fieldservice.workorders.choices import TO_DISPATCH_STATUSES
from fieldservice.workorders.models import WorkOrderEvent

# A check-in this recent says where the engineer is better than their home base does.
RECENT_CHECK_IN = timedelta(hours=12)


def orders_in_pool(order_ids) -> set[int]:
    """Those of the orders (a value for `__in`) with an offer still in the pool: dispatch's rules
    leave them alone (registered with `dispatch.hooks.on_holding`)."""
    return set(
        PoolOffer.objects.filter(work_order_id__in=order_ids, status__in=ACTIVE_OFFER_STATUSES).values_list(
            "work_order_id", flat=True
        )
    )


def is_grabber(actor: User) -> bool:
    return can(actor, Capability.GRAB_ORDERS) and actor.has_role(Role.ENGINEER)


def _base(queryset=None) -> QuerySet[PoolOffer]:
    queryset = PoolOffer.objects.all() if queryset is None else queryset
    return queryset.select_related(
        "work_order__customer",
        "work_order__site",
        "work_order__fault_category",
        "provider",
        "skill",
        "grabbed_by",
        "published_by",
        "decided_by",
        "rule",
    )


def company_scope(actor: User) -> Q | None:
    """The offers the actor's company may see at all (see the module docstring); None: none."""
    organisation = actor.organisation
    if organisation is None or not organisation.is_active:
        return None
    if organisation.kind == OrganisationKind.OWN:
        return Q(provider__isnull=True)
    if organisation.kind == OrganisationKind.PROVIDER:
        return Q(provider_id=organisation.pk) | Q(
            provider__isnull=True, work_order__customer__service_provider_id=organisation.pk
        )
    return None


def offers_visible_to(actor: User) -> QuerySet[PoolOffer]:
    """Dispatchers: every offer. Engineers: every offer of their company's scope, whatever its
    status, so a grab that came too late can be told "taken" rather than "not found"."""
    if may_manage_pool(actor):
        return _base()
    if not is_grabber(actor):
        return PoolOffer.objects.none()
    scope = company_scope(actor)
    if scope is None:
        return PoolOffer.objects.none()
    return _base().filter(scope)


def _qualifies(actor: User) -> Q:
    skill_ok = Q(skill__isnull=True) | Q(
        Exists(
            EngineerSkill.objects.filter(
                engineer__user=actor, skill_id=OuterRef("skill_id"), level__gte=OuterRef("min_level")
            )
        )
    )
    offer_areas = PoolOffer.areas.through.objects.filter(pooloffer_id=OuterRef("pk"))
    my_areas = EngineerProfile.areas.through.objects.filter(engineerprofile__user=actor).values("servicearea_id")
    area_ok = ~Q(Exists(offer_areas)) | Q(Exists(offer_areas.filter(servicearea_id__in=my_areas)))
    return skill_ok & area_ok


def offers_for(actor: User, *, now: datetime | None = None) -> QuerySet[PoolOffer]:
    """What the actor's pool page lists. Dispatchers: every offer. Engineers: the open,
    unexpired offers they may grab, of orders still waiting for dispatch."""
    if may_manage_pool(actor):
        return _base()
    visible = offers_visible_to(actor)
    if (
        not visible.query.is_empty()
        and not EngineerProfile.objects.filter(user=actor, availability=Availability.ON_LEAVE).exists()
    ):
        now = now or timezone.now()
        return visible.filter(
            _qualifies(actor),
            status=OfferStatus.OPEN,
            expires_at__gt=now,
            work_order__status__in=TO_DISPATCH_STATUSES,
        )
    return PoolOffer.objects.none()


def get_offer_for(actor: User, pk: int) -> PoolOffer:
    """One offer the actor's company may see (404 for missing and not-yours)."""
    return get_object_or_404(offers_visible_to(actor), pk=pk)


def in_company_scope(actor: User, offer: PoolOffer) -> bool:
    """`company_scope` for one offer, in Python (the grab's hot path)."""
    organisation = actor.organisation
    if organisation is None or not organisation.is_active:
        return False
    if organisation.kind == OrganisationKind.OWN:
        return offer.provider_id is None
    if organisation.kind == OrganisationKind.PROVIDER:
        if offer.provider_id is not None:
            return offer.provider_id == organisation.pk
        return offer.work_order.customer.service_provider_id == organisation.pk
    return False


def grab_problem(actor: User, offer: PoolOffer) -> str | None:
    """Why the actor may not grab the offer, whatever its status: "not_grabber", "company",
    "on_leave", "skill" or "area"; None when they may."""
    return company_problem(actor, offer) or qualification_problem(actor, offer)


def company_problem(actor: User, offer: PoolOffer) -> str | None:
    """ "not_grabber" or "company" (another company's offer), without a query of its own."""
    if not is_grabber(actor) or not actor.is_active:
        return "not_grabber"
    if not in_company_scope(actor, offer):
        return "company"
    return None


def qualification_problem(actor: User, offer: PoolOffer) -> str | None:
    """ "on_leave", "skill" or "area", in one query."""
    offer_areas = PoolOffer.areas.through.objects.filter(pooloffer_id=offer.pk)
    profile = (
        EngineerProfile.objects.filter(user=actor)
        .annotate(
            has_skill=Exists(
                EngineerSkill.objects.filter(
                    engineer_id=OuterRef("pk"), skill_id=offer.skill_id, level__gte=offer.min_level
                )
            ),
            offer_has_areas=Exists(offer_areas),
            covers_area=Exists(
                offer_areas.filter(
                    servicearea_id__in=EngineerProfile.areas.through.objects.filter(
                        engineerprofile_id=OuterRef(OuterRef("pk"))
                    ).values("servicearea_id")
                )
            ),
        )
        .values_list("availability", "has_skill", "offer_has_areas", "covers_area")
        .first()
    )
    if profile is None:
        # No profile: no skills and no areas, but nothing keeps them from an open offer either.
        has_areas = offer_areas.exists()
        return "skill" if offer.skill_id else ("area" if has_areas else None)
    availability, has_skill, offer_has_areas, covers_area = profile
    if availability == Availability.ON_LEAVE:
        return "on_leave"
    if offer.skill_id is not None and not has_skill:
        return "skill"
    if offer_has_areas and not covers_area:
        return "area"
    return None


def is_eligible(actor: User, offer: PoolOffer) -> bool:
    """Whether the actor qualifies for the offer (company, skill, area, not on leave), whatever
    its status: the grab service checks the status itself, with a compare-and-set."""
    return grab_problem(actor, offer) is None


def my_pending_grabs(actor: User) -> QuerySet[PoolOffer]:
    """The engineer's grabs waiting for a dispatcher's approval."""
    return _base().filter(grabbed_by=actor, status=OfferStatus.GRABBED)


# Where the engineer is, how far the sites are, and when the order is due -------------------------


def position_of(actor: User, *, now: datetime | None = None) -> tuple[Decimal, Decimal] | None:
    """The engineer's last check-in of the last hours, else their home base, else None."""
    now = now or timezone.now()
    event = (
        WorkOrderEvent.objects.filter(
            actor=actor,
            action="check_in",
            at__gte=now - RECENT_CHECK_IN,
            latitude__isnull=False,
            longitude__isnull=False,
        )
        .order_by("-at", "-pk")
        .values_list("latitude", "longitude")
        .first()
    )
    if event is not None:
        return event
    home = (
        EngineerProfile.objects.filter(user=actor, home_latitude__isnull=False, home_longitude__isnull=False)
        .values_list("home_latitude", "home_longitude")
        .first()
    )
    return home


def with_sla_due(offers: QuerySet[PoolOffer]) -> QuerySet[PoolOffer]:
    """Annotate `sla_due_at`: the earliest deadline of the order's running SLA clocks."""
    running = (
        SlaClock.objects.filter(work_order_id=OuterRef("work_order_id"), met_at__isnull=True, stopped_at__isnull=True)
        .order_by("due_at")
        .values("due_at")[:1]
    )
    return offers.annotate(sla_due_at=Subquery(running))


@dataclass
class OfferRow:
    offer: PoolOffer
    distance_km: float | None
    sla_due_at: datetime | None


def distance_km(position, site) -> float | None:
    if position is None or site is None or site.latitude is None or site.longitude is None:
        return None
    return round(great_circle_km(position[0], position[1], site.latitude, site.longitude), 1)


def rows_for(actor: User, offers: QuerySet[PoolOffer]) -> list[OfferRow]:
    """Offers with the distance from the actor (nearest first when known) and the SLA due time."""
    position = position_of(actor)
    rows = [
        OfferRow(
            offer=offer,
            distance_km=distance_km(position, offer.work_order.site),
            sla_due_at=getattr(offer, "sla_due_at", None),
        )
        for offer in with_sla_due(offers)
    ]
    priority_rank = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    rows.sort(
        key=lambda row: (
            priority_rank.get(row.offer.work_order.priority, 9),
            row.distance_km if row.distance_km is not None else 1e9,
            row.offer.expires_at,
        )
    )
    return rows


# Which service areas cover a site --------------------------------------------------------------


def _inside(ring: list, longitude: float, latitude: float) -> bool:
    """Ray casting over a ring of [longitude, latitude] points."""
    inside = False
    points = [(float(p[0]), float(p[1])) for p in ring]
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        if (y1 > latitude) != (y2 > latitude):
            crossing = x1 + (latitude - y1) * (x2 - x1) / (y2 - y1)
            if longitude < crossing:
                inside = not inside
    return inside


def _valid_ring(polygon) -> bool:
    if not isinstance(polygon, list) or len(polygon) < 3:
        return False
    try:
        return all(len(point) == 2 and all(float(v) == float(v) for v in point) for point in polygon)
    except (TypeError, ValueError):
        return False


def area_covers(area: ServiceArea, site) -> bool:
    """By its boundary when it has one and the site has coordinates; else by city (and
    district), else by province."""
    if site is None:
        return False
    if _valid_ring(area.polygon) and site.latitude is not None and site.longitude is not None:
        return _inside(area.polygon, float(site.longitude), float(site.latitude))
    if area.city:
        if not site.city or area.city not in site.city:
            return False
        return not area.district or bool(site.district and area.district in site.district)
    if area.province:
        return bool(site.province and area.province in site.province)
    return False


def areas_covering(site) -> list[ServiceArea]:
    """The service areas engineers cover (those on at least one engineer profile) that hold the
    site; none when the site has no place or no area holds it (the offer is then for anywhere)."""
    if site is None:
        return []
    used = EngineerProfile.areas.through.objects.values("servicearea_id")
    return [area for area in ServiceArea.objects.filter(pk__in=used) if area_covers(area, site)]
