"""From the database to the optimiser's input: which orders and engineers a run covers, and their data.

Scope (decided here, shown on the run page):
- engineers: active engineers of our company that are not on leave; for a team its members, for an
  area those whose profile covers it. An engineer who does not work that day (no shift left after
  absences) is left out.
- orders: open orders that are not yet under way (new, rejected, dispatched, accepted) and either have
  no planned visit or have one on that day. For a team: the orders whose lead engineer is in the team,
  and the undispatched ones whose site lies in one of the team's areas; for an area: the orders whose
  site lies in the area and whose lead (if any) is one of the run's engineers. Orders with a provider
  as lead, or a lead outside the run, belong to someone else and are left out.
- fixed work: a pinned visit keeps its engineer and start; an accepted order keeps its engineer (he has
  said yes) but may move in time; a visit of an order already under way (travelling, on site) that day,
  and any other visit of the run's engineers that day, is kept as it is so that nobody else is planned
  into that time (its skill is not asked again: it is not the optimiser's to move).

Times are seconds since local midnight of the day; durations come from the visit, else the default
duration of the service type; skills from the fault category (level 1); the SLA resolution (else
arrival) clock gives the deadline; priorities weigh 1 / 4 / 16 / 64 (low … urgent), so one order
outweighs three of the level below it.

Parts: an order's needed parts are its job's `demand` (one dimension per part number, whole units,
rounded up); an engineer's van stock of those parts (available = on hand - reserved, rounded down)
is his `stock`. An engineer without the parts cannot serve the order. When the organisation has an
active central warehouse with coordinates, it is the plan's depot: an engineer may stop there once
to collect what it holds of those parts (his `capacity` = van + that warehouse), so a job he lacks
parts for is still his if the detour fits. Several engineers may count on the same depot stock: the
plan does not share it out (a requisition does).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from fieldservice.accounts.choices import Availability, Role
from fieldservice.accounts.models import EngineerProfile, ServiceArea, ServiceTeam, User
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.dispatch.models import Assignment
from fieldservice.inventory.choices import WarehouseKind
from fieldservice.inventory.models import Part, Warehouse
from fieldservice.inventory.selectors import availability, carried_by
from fieldservice.planning.optimiser import Break, Depot, GeoPoint, Job, Pin, Problem, Resource, TimeWindow
from fieldservice.scheduling.choices import VisitStatus
from fieldservice.scheduling.models import Visit
from fieldservice.scheduling.selectors import working_periods
from fieldservice.scheduling.services import default_duration_minutes
from fieldservice.sla.choices import TargetKind
from fieldservice.sla.models import SlaClock
from fieldservice.workorders.choices import Priority, WorkOrderStatus
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.selectors import needs_of

S = WorkOrderStatus
PLANNABLE_STATUSES = (S.NEW, S.REJECTED, S.DISPATCHED, S.ACCEPTED)
UNDER_WAY_STATUSES = (S.TRAVELLING, S.ON_SITE)
UNDISPATCHED_STATUSES = (S.NEW, S.REJECTED)
PRIORITY_WEIGHT = {Priority.LOW: 1, Priority.NORMAL: 4, Priority.HIGH: 16, Priority.URGENT: 64}
# Minutes an engineer spends at the depot collecting parts.
DEPOT_MINUTES = 15


def day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(0, 0)))


def scope_engineers(*, organisation_id: int, team: ServiceTeam | None, area: ServiceArea | None) -> list[User]:
    profiles = EngineerProfile.objects.filter(
        user__is_active=True, user__organisation_id=organisation_id, user__roles__role=Role.ENGINEER
    ).exclude(availability=Availability.ON_LEAVE)
    profiles = profiles.filter(team=team) if team is not None else profiles.filter(areas=area)
    users = User.objects.filter(pk__in=profiles.values("user_id")).order_by("display_name", "username", "pk")
    return list(users)


def _point_in_ring(longitude: float, latitude: float, ring: list) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > latitude) != (y2 > latitude):
            crossing = x1 + (latitude - y1) * (x2 - x1) / (y2 - y1)
            if longitude < crossing:
                inside = not inside
    return inside


def site_in_area(site, area: ServiceArea) -> bool:
    """By the area's polygon when it has one (needs the site's coordinates), else by every non-blank
    province / city / district of the area matching the site's."""
    if site is None:
        return False
    ring = [tuple(map(float, p)) for p in (area.polygon or []) if isinstance(p, list | tuple) and len(p) == 2]
    if len(ring) >= 3:
        if site.latitude is None or site.longitude is None:
            return False
        return _point_in_ring(float(site.longitude), float(site.latitude), ring)
    names = [(area.province, site.province), (area.city, site.city), (area.district, site.district)]
    wanted = [(a.strip(), s.strip()) for a, s in names if a.strip()]
    return bool(wanted) and all(a == s for a, s in wanted)


@dataclass
class JobInfo:
    order_id: int
    number: str
    visit_id: int | None
    fixed: bool  # kept for the proposal's moves; fixed visits are breaks of their engineer (Built.fixed)
    duration_minutes: int
    current_engineer_id: int | None


@dataclass
class Built:
    problem: Problem
    start: dt.datetime
    engineers: dict[str, User]
    jobs: dict[str, JobInfo]
    shifts: dict[str, tuple[int, int]]
    off_engineers: list[User] = field(default_factory=list)
    current: dict[str, list[dict]] = field(default_factory=dict)  # engineer id -> planned visits that day
    snapshot: dict = field(default_factory=dict)
    fixed: dict[str, list[dict]] = field(default_factory=dict)  # engineer id -> visits kept as they are


def _seconds(moment: dt.datetime, start: dt.datetime) -> int:
    return int((moment - start).total_seconds())


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for begin, finish in sorted(intervals):
        if merged and begin <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], finish)
        else:
            merged.append([begin, finish])
    return [(begin, finish) for begin, finish in merged]


def _resource(
    engineer: User,
    periods: list,
    start: dt.datetime,
    skills: dict[str, int],
    busy: list[tuple[int, int]],
    stock: dict[str, int] | None = None,
    capacity: dict[str, int] | None = None,
) -> Resource:
    profile = getattr(engineer, "engineer_profile", None)
    home = None
    if profile is not None and profile.home_latitude is not None and profile.home_longitude is not None:
        home = GeoPoint(float(profile.home_latitude), float(profile.home_longitude))
    shift = TimeWindow(_seconds(periods[0][0], start), _seconds(periods[-1][1], start))
    # The gaps between working periods (lunch, an absence) and the visits that stay where they are are
    # breaks at fixed times: the engineer is not free then, wherever he is.
    pairs = zip(periods, periods[1:], strict=False)
    blocked = [(_seconds(e1, start), _seconds(s2, start)) for (_s1, e1), (s2, _e2) in pairs]
    blocked += [(max(b, shift.start), min(e, shift.end)) for b, e in busy if b < shift.end and e > shift.start]
    breaks = [Break(TimeWindow(b, b), e - b) for b, e in _merge(blocked) if e > b]
    return Resource(
        id=f"e{engineer.pk}",
        start=home,
        shift=shift,
        skills=skills,
        breaks=tuple(breaks),
        capacity=capacity if capacity is not None else dict(stock or {}),
        stock=stock,
    )


@dataclass
class Parts:
    """The parts side of a run: each job's demand and each engineer's stock and capacity."""

    demand: dict[int, dict[str, int]] = field(default_factory=dict)  # order pk -> part number -> units
    stock: dict[int, dict[str, int]] = field(default_factory=dict)  # engineer pk -> part number -> units
    capacity: dict[int, dict[str, int]] = field(default_factory=dict)
    depot: Depot | None = None


def central_depot(organisation_id: int) -> tuple[Warehouse, Depot] | None:
    """The organisation's central warehouse with coordinates as the plan's depot (the first one)."""
    warehouse = (
        Warehouse.objects.filter(
            organisation_id=organisation_id,
            kind=WarehouseKind.CENTRAL,
            is_active=True,
            latitude__isnull=False,
            longitude__isnull=False,
        )
        .order_by("pk")
        .first()
    )
    if warehouse is None:
        return None
    location = GeoPoint(float(warehouse.latitude), float(warehouse.longitude))
    return warehouse, Depot(location=location, service=DEPOT_MINUTES * 60)


def parts_of(order_ids: list[int], engineer_ids: list[int], organisation_id: int) -> Parts:
    """Demand, stock and capacity in part units: four queries whatever the size of the run."""
    needs = needs_of(order_ids)
    parts = Parts()
    if not needs:
        return parts
    wanted: dict[int, Decimal] = {}
    for by_part in needs.values():
        for part_id, quantity in by_part.items():
            wanted[part_id] = max(wanted.get(part_id, Decimal(0)), quantity)
    numbers = dict(Part.objects.filter(pk__in=list(wanted)).values_list("pk", "part_number"))
    parts.demand = {
        order_id: {numbers[part_id]: math.ceil(quantity) for part_id, quantity in by_part.items()}
        for order_id, by_part in needs.items()
    }
    carried = carried_by(engineer_ids, wanted)
    parts.stock = {
        pk: {numbers[part_id]: math.floor(quantity) for part_id, quantity in carried.get(pk, {}).items()}
        for pk in engineer_ids
    }
    parts.stock = {pk: {n: q for n, q in stock.items() if q > 0} for pk, stock in parts.stock.items()}
    depot = central_depot(organisation_id)
    if depot is None:
        parts.capacity = parts.stock
        return parts
    warehouse, parts.depot = depot
    held = availability(list(wanted), [warehouse.pk]).get(warehouse.pk, {})
    extra = {numbers[part_id]: math.floor(quantity) for part_id, quantity in held.items()}
    parts.capacity = {
        pk: {n: stock.get(n, 0) + extra.get(n, 0) for n in set(stock) | set(extra) if stock.get(n, 0) + extra.get(n, 0)}
        for pk, stock in parts.stock.items()
    }
    return parts


def _lead_engineers(order_ids: list[int]) -> dict[int, Assignment]:
    leads = Assignment.objects.filter(
        work_order_id__in=order_ids, role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES
    )
    return {a.work_order_id: a for a in leads}


def _deadlines(order_ids: list[int]) -> dict[int, dt.datetime]:
    clocks = SlaClock.objects.filter(
        work_order_id__in=order_ids,
        kind__in=(TargetKind.RESOLUTION, TargetKind.ARRIVAL),
        met_at__isnull=True,
        stopped_at__isnull=True,
    )
    found: dict[int, dict[str, dt.datetime]] = {}
    for clock in clocks:
        found.setdefault(clock.work_order_id, {})[clock.kind] = clock.due_at
    return {pk: kinds.get(TargetKind.RESOLUTION) or kinds[TargetKind.ARRIVAL] for pk, kinds in found.items()}


def build(*, day: dt.date, organisation_id: int, team: ServiceTeam | None, area: ServiceArea | None) -> Built:
    start = day_start(day)
    end = start + dt.timedelta(days=1)
    engineers = scope_engineers(organisation_id=organisation_id, team=team, area=area)
    engineer_ids = {e.pk for e in engineers}
    skills_of: dict[int, dict[str, int]] = {e.pk: {} for e in engineers}
    for profile in EngineerProfile.objects.filter(user__in=engineers).prefetch_related("skills__skill"):
        skills_of[profile.user_id] = {s.skill.code: s.level for s in profile.skills.all()}
    periods_of, by_id, off = {}, {}, []
    for engineer in User.objects.filter(pk__in=engineer_ids).select_related("engineer_profile"):
        periods = sorted(working_periods(engineer, day))
        if not periods:
            off.append(engineer)
            continue
        periods_of[engineer.pk] = periods
        by_id[f"e{engineer.pk}"] = engineer

    candidates = WorkOrder.objects.filter(status__in=PLANNABLE_STATUSES + UNDER_WAY_STATUSES).select_related(
        "site", "fault_category__skill", "equipment"
    )
    planned = {
        v.work_order_id: v
        for v in Visit.objects.filter(status=VisitStatus.PLANNED, work_order__in=candidates).select_related("engineer")
    }
    resource_of = {e.pk: f"e{e.pk}" for e in by_id.values()}
    # Orders planned on another day are not this day's business.
    candidates = [o for o in candidates if o.pk not in planned or start <= planned[o.pk].planned_start < end]
    leads = _lead_engineers([o.pk for o in candidates])
    team_areas = list(team.areas.all()) if team is not None else []
    chosen: list[WorkOrder] = []
    for order in candidates:
        lead = leads.get(order.pk)
        lead_id = lead.engineer_id if lead is not None and lead.provider_id is None else None
        if lead is not None and lead_id is None:
            continue  # with a provider
        if order.status in UNDER_WAY_STATUSES:
            visit = planned.get(order.pk)
            if lead_id in engineer_ids and visit is not None:
                chosen.append(order)
            continue
        if lead_id is not None:
            if lead_id in engineer_ids and (team is not None or site_in_area(order.site, area)):
                chosen.append(order)
            continue
        if order.status not in UNDISPATCHED_STATUSES:
            continue
        areas = team_areas if team is not None else [area]
        if any(site_in_area(order.site, a) for a in areas):
            chosen.append(order)

    # Any other visit of these engineers that day (an order of another area, on hold, ...) keeps its time:
    # nobody is planned into it, and apply never touches it.
    chosen_ids = {o.pk for o in chosen}
    blockers = {
        v.work_order_id: v
        for v in Visit.objects.filter(
            status=VisitStatus.PLANNED, engineer_id__in=engineer_ids, planned_start__gte=start, planned_start__lt=end
        ).exclude(work_order_id__in=chosen_ids)
    }
    for order in WorkOrder.objects.filter(pk__in=blockers).select_related("site", "fault_category__skill", "equipment"):
        planned[order.pk] = blockers[order.pk]
        chosen.append(order)

    deadlines = _deadlines([o.pk for o in chosen])
    parts = parts_of([o.pk for o in chosen], sorted(e.pk for e in by_id.values()), organisation_id)
    order_key = {e.pk: i for i, e in enumerate(engineers)}
    jobs, infos, fixed_of, in_snapshot = [], {}, {}, set()
    for order in sorted(chosen, key=lambda o: o.pk):
        visit = planned.get(order.pk)
        lead = leads.get(order.pk)
        lead_id = lead.engineer_id if lead is not None else None
        site = order.site
        location = None
        if site is not None and site.latitude is not None and site.longitude is not None:
            location = GeoPoint(float(site.latitude), float(site.longitude))
        minutes = visit.duration_minutes if visit is not None else default_duration_minutes(order)
        windows = ()
        if visit is not None and visit.window_start and visit.window_end:
            windows = (TimeWindow(_seconds(visit.window_start, start), _seconds(visit.window_end, start)),)
        pin = None
        # A pinned visit, one under way and any other visit of these engineers that day stays as it is.
        holder = (visit.engineer_id if visit is not None else None) or lead_id
        if visit is not None and (visit.is_pinned or order.status in UNDER_WAY_STATUSES or order.pk in blockers):
            if holder not in resource_of:
                continue  # fixed to someone outside the run
            begin = _seconds(visit.planned_start, start)
            fixed_of.setdefault(resource_of[holder], []).append(
                {"order_id": order.pk, "number": order.number, "start": begin, "end": begin + minutes * 60}
            )
            in_snapshot.add(order.pk)
            continue
        if order.status == S.ACCEPTED:
            if holder not in resource_of:
                continue
            pin = Pin(resource_of[holder])
        skill = order.fault_category.skill if order.fault_category_id and order.fault_category.skill_id else None
        deadline = deadlines.get(order.pk)
        job = Job(
            id=f"o{order.pk}",
            location=location,
            duration=minutes * 60,
            windows=windows,
            skills={skill.code: 1} if skill is not None else {},
            priority=PRIORITY_WEIGHT.get(order.priority, 1),
            sla_deadline=_seconds(deadline, start) if deadline is not None else None,
            pin=pin,
            demand=parts.demand.get(order.pk, {}),
        )
        jobs.append(job)
        in_snapshot.add(order.pk)
        infos[job.id] = JobInfo(order.pk, order.number, visit.pk if visit else None, False, minutes, holder)

    current: dict[str, list[dict]] = {}
    day_visits = Visit.objects.filter(
        status=VisitStatus.PLANNED, engineer_id__in=engineer_ids, planned_start__gte=start, planned_start__lt=end
    ).select_related("work_order__site")
    for visit in day_visits.order_by("planned_start", "pk"):
        site = visit.work_order.site
        current.setdefault(f"e{visit.engineer_id}", []).append(
            {
                "order_id": visit.work_order_id,
                "number": visit.work_order.number,
                "start": _seconds(visit.planned_start, start),
                "end": _seconds(visit.planned_end, start),
                "location": (float(site.latitude), float(site.longitude))
                if site is not None and site.latitude is not None and site.longitude is not None
                else None,
            }
        )
    snapshot = {
        "orders": {
            str(o.pk): {"updated_at": o.updated_at.isoformat(), "status": o.status}
            for o in chosen
            if o.pk in in_snapshot
        },
        "visits": {str(o.pk): [planned[o.pk].pk, planned[o.pk].version] if o.pk in planned else None for o in chosen},
    }
    snapshot["visits"] = {k: v for k, v in snapshot["visits"].items() if k in snapshot["orders"]}
    resources = [
        _resource(
            by_id[rid],
            periods_of[by_id[rid].pk],
            start,
            skills_of[by_id[rid].pk],
            [(item["start"], item["end"]) for item in fixed_of.get(rid, [])],
            stock=parts.stock.get(by_id[rid].pk, {}),
            capacity=parts.capacity.get(by_id[rid].pk, {}),
        )
        for rid in sorted(by_id, key=lambda rid: order_key[by_id[rid].pk])
    ]
    return Built(
        problem=Problem(tuple(jobs), tuple(resources), depot=parts.depot),
        fixed=fixed_of,
        start=start,
        engineers=by_id,
        jobs=infos,
        shifts={r.id: (r.shift.start, r.shift.end) for r in resources},
        off_engineers=off,
        current=current,
        snapshot=snapshot,
    )
