"""What the dispatch board shows: engineers with their shifts, leave and last known place, the
planned visits with travel between them, the open orders for the map, and a change stamp.

Everything goes through the scoped selectors of the apps that own the rows (engineers_for,
visits_between, work_orders_for, orders_to_dispatch, candidates_for); the board only assembles."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone

from fieldservice.accounts.choices import Availability
from fieldservice.accounts.models import EngineerProfile, ServiceArea, ServiceTeam, User
from fieldservice.accounts.selectors import engineers_for
from fieldservice.core.geo import great_circle_km
from fieldservice.dispatch.assignments.forms import engineers_for_order
from fieldservice.dispatch.assignments.selectors import Candidate, candidates_for, candidates_for_orders
from fieldservice.dispatch.rules.conditions import AreaShape
from fieldservice.planning.optimiser.model import GeoPoint
from fieldservice.planning.optimiser.travel import GreatCircle
from fieldservice.scheduling.choices import VisitStatus
from fieldservice.scheduling.models import Absence, Visit
from fieldservice.scheduling.selectors import absences_between, shift_periods, visits_between
from fieldservice.sla.models import SlaClock
from fieldservice.sla.selectors import clock_state
from fieldservice.workorders.choices import OPEN_STATUSES, Priority
from fieldservice.workorders.models import WorkOrder, WorkOrderEvent
from fieldservice.workorders.selectors import orders_to_dispatch, work_orders_for

# The hours a day of the Gantt spans unless a shift or a visit lies outside them.
DAY_FIRST_HOUR = 7
DAY_LAST_HOUR = 20
# The map and the list are for a dispatcher's screen, not an export: cap them.
MAX_MAP_ORDERS = 500
MAX_QUEUE_ROWS = 100
NEAREST_COUNT = 5
# Worst first; an order's SLA state on the board is the worst of its clocks.
SLA_SEVERITY = {"breached": 4, "at_risk": 3, "paused": 2, "running": 1}
PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


@dataclass(frozen=True)
class BoardFilter:
    """The filters every view of the board shares (parsed by forms.BoardFilterForm)."""

    day: dt.date
    span: str = "day"
    team: ServiceTeam | None = None
    area: ServiceArea | None = None

    @property
    def days(self) -> list[dt.date]:
        if self.span == "week":
            monday = self.day - dt.timedelta(days=self.day.weekday())
            return [monday + dt.timedelta(days=n) for n in range(7)]
        return [self.day]

    @property
    def start(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.days[0], dt.time(0, 0)))

    @property
    def end(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.days[-1] + dt.timedelta(days=1), dt.time(0, 0)))


def _iso(moment: dt.datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat() if moment is not None else None


def _float(value) -> float | None:
    return float(value) if value is not None else None


# Engineers


def board_engineers(actor: User, board: BoardFilter):
    """The engineer profiles the actor may see, active, narrowed to the team / area."""
    profiles = engineers_for(actor).filter(user__is_active=True).prefetch_related("areas")
    if board.team is not None:
        profiles = profiles.filter(team=board.team)
    if board.area is not None:
        profiles = profiles.filter(Q(areas=board.area) | Q(team__areas=board.area))
    return profiles.distinct().order_by("team__name", "user__display_name", "user__username", "pk")


def last_locations(user_ids) -> dict[int, WorkOrderEvent]:
    """Each engineer's latest logged position (a check-in or start of travel with coordinates)."""
    latest = (
        WorkOrderEvent.objects.filter(actor_id__in=user_ids, latitude__isnull=False, longitude__isnull=False)
        .values("actor_id")
        .annotate(last=Max("pk"))
        .values_list("last", flat=True)
    )
    return {event.actor_id: event for event in WorkOrderEvent.objects.filter(pk__in=list(latest))}


def _location(profile: EngineerProfile, event: WorkOrderEvent | None) -> dict | None:
    if event is not None:
        lat, lng = _float(event.latitude), _float(event.longitude)
        return {"lat": lat, "lng": lng, "source": "check_in", "at": _iso(event.at)}
    if profile.home_latitude is not None and profile.home_longitude is not None:
        lat, lng = _float(profile.home_latitude), _float(profile.home_longitude)
        return {"lat": lat, "lng": lng, "source": "home", "at": None}
    return None


def _engineer_row(profile: EngineerProfile, board: BoardFilter, event, absences) -> dict:
    user = profile.user
    shifts = [[_iso(start), _iso(end)] for day in board.days for start, end in shift_periods(profile, day)]
    return {
        "id": user.pk,
        "name": str(user),
        "team": profile.team.name if profile.team_id else "",
        "organisation": user.organisation.name if user.organisation_id and not user.is_own_staff else "",
        "availability": profile.availability,
        "availability_label": profile.get_availability_display(),
        "shifts": shifts,
        "absences": [
            {"start": _iso(a.starts_at), "end": _iso(a.ends_at), "kind": a.kind, "label": a.get_kind_display()}
            for a in absences
        ],
        "location": _location(profile, event),
    }


# Orders: SLA state, area, pins


def sla_states(order_ids, now: dt.datetime | None = None) -> dict[int, str]:
    """The worst state of each order's clocks ("" when it has none that matter)."""
    now = now or timezone.now()
    states: dict[int, str] = {}
    for clock in SlaClock.objects.filter(work_order_id__in=list(order_ids)):
        state = clock_state(clock, now)
        if SLA_SEVERITY.get(state, 0) > SLA_SEVERITY.get(states.get(clock.work_order_id, ""), 0):
            states[clock.work_order_id] = state
    return states


def _area_shapes(board: BoardFilter) -> list[AreaShape] | None:
    """The areas an order must lie in for the filters; None when the filters do not narrow orders."""
    if board.area is not None:
        return [AreaShape.of(board.area)]
    if board.team is not None:
        areas = list(board.team.areas.all())
        return [AreaShape.of(area) for area in areas] if areas else None
    return None


def _in_areas(order: WorkOrder, shapes: list[AreaShape] | None) -> bool:
    if shapes is None:
        return True
    site = order.site
    if site is None:
        return False
    return any(
        shape.contains(site.latitude, site.longitude, site.province, site.city, site.district) for shape in shapes
    )


def _order_pin(order: WorkOrder, sla: dict[int, str], visit: Visit | None) -> dict:
    site = order.site
    return {
        "id": order.pk,
        "number": order.number,
        "customer": order.customer.name,
        "site": site.name if site else "",
        "city": site.city if site else "",
        "lat": _float(site.latitude) if site else None,
        "lng": _float(site.longitude) if site else None,
        "priority": order.priority,
        "priority_label": order.get_priority_display(),
        "status": order.status,
        "status_label": order.get_status_display(),
        "sla": sla.get(order.pk, ""),
        "visit": visit.pk if visit is not None else None,
        "planned_start": _iso(visit.planned_start) if visit is not None else None,
        "dispatch_url": reverse("dispatch:order", args=[order.pk]),
    }


def map_orders(actor: User, board: BoardFilter) -> list[dict]:
    """Open orders with coordinates for the map, urgent first."""
    orders = (
        work_orders_for(actor)
        .filter(status__in=OPEN_STATUSES, site__latitude__isnull=False, site__longitude__isnull=False)
        .order_by("created_at", "pk")
    )
    shapes = _area_shapes(board)
    chosen = [order for order in orders[: MAX_MAP_ORDERS * 2] if _in_areas(order, shapes)][:MAX_MAP_ORDERS]
    ids = [order.pk for order in chosen]
    sla = sla_states(ids)
    planned = {v.work_order_id: v for v in Visit.objects.filter(work_order_id__in=ids, status=VisitStatus.PLANNED)}
    pins = [_order_pin(order, sla, planned.get(order.pk)) for order in chosen]
    pins.sort(key=lambda pin: (PRIORITY_RANK.get(pin["priority"], 9), -SLA_SEVERITY.get(pin["sla"], 0)))
    return pins


# Visits and travel


def _travel_minutes(a: tuple | None, b: tuple | None, source: GreatCircle) -> int | None:
    if a is None or b is None or None in a or None in b:
        return None
    matrix = source.matrix([GeoPoint(*a), GeoPoint(*b)])
    return round(int(matrix.durations[0][1]) / 60)


def _site_point(visit: Visit) -> tuple | None:
    site = visit.work_order.site
    if site is None or site.latitude is None or site.longitude is None:
        return None
    return (float(site.latitude), float(site.longitude))


def _visit_row(visit: Visit, sla: dict[int, str]) -> dict:
    order = visit.work_order
    return {
        "id": visit.pk,
        "version": visit.version,
        "order_id": order.pk,
        "number": order.number,
        "customer": order.customer.name,
        "city": order.site.city if order.site_id else "",
        "engineer": visit.engineer_id,
        "start": _iso(visit.planned_start),
        "end": _iso(visit.planned_end),
        "duration": visit.duration_minutes,
        "pinned": visit.is_pinned,
        "window": [_iso(visit.window_start), _iso(visit.window_end)] if visit.window_start else None,
        "priority": order.priority,
        "priority_label": order.get_priority_display(),
        "status": order.status,
        "status_label": order.get_status_display(),
        "sla": sla.get(order.pk, ""),
        "travel_minutes": None,
        "travel_from": "",
        "dispatch_url": reverse("dispatch:order", args=[order.pk]),
    }


def _add_travel(rows: list[dict], visits: list[Visit], homes: dict[int, tuple]) -> None:
    """Travel before each visit: from the engineer's previous visit that day, or from his home
    base for his first visit of the day (great circle x road factor at the configured speed)."""
    source = GreatCircle()
    by_engineer: dict[int, list[tuple[dict, Visit]]] = {}
    for row, visit in zip(rows, visits, strict=True):
        if visit.engineer_id is not None:
            by_engineer.setdefault(visit.engineer_id, []).append((row, visit))
    for engineer_id, pairs in by_engineer.items():
        pairs.sort(key=lambda pair: pair[1].planned_start)
        previous: Visit | None = None
        for row, visit in pairs:
            same_day = previous is not None and (
                timezone.localtime(previous.planned_start).date() == timezone.localtime(visit.planned_start).date()
            )
            if same_day:
                row["travel_minutes"] = _travel_minutes(_site_point(previous), _site_point(visit), source)
                row["travel_from"] = "visit"
            else:
                row["travel_minutes"] = _travel_minutes(homes.get(engineer_id), _site_point(visit), source)
                row["travel_from"] = "home"
            previous = visit


def _day_segments(board: BoardFilter, engineers: list[dict], visits: list[dict]) -> list[dict]:
    """The part of each day the Gantt draws: office hours, widened to every shift and visit."""
    first, last = DAY_FIRST_HOUR * 60, DAY_LAST_HOUR * 60
    moments = [m for row in engineers for shift in row["shifts"] for m in shift]
    moments += [m for row in visits for m in (row["start"], row["end"])]
    for iso in moments:
        local = timezone.localtime(dt.datetime.fromisoformat(iso))
        minutes = local.hour * 60 + local.minute
        first = min(first, minutes // 60 * 60)
        last = max(last, -(-minutes // 60) * 60 if minutes else 24 * 60)
    segments = []
    for day in board.days:
        midnight = timezone.make_aware(dt.datetime.combine(day, dt.time(0, 0)))
        start = midnight + dt.timedelta(minutes=first)
        end = midnight + dt.timedelta(minutes=min(last, 24 * 60))
        offset = timezone.localtime(start).utcoffset() or dt.timedelta(0)
        segments.append(
            {
                "date": day.isoformat(),
                "start": _iso(start),
                "end": _iso(end),
                "offset_minutes": int(offset.total_seconds() // 60),
            }
        )
    return segments


def board_data(actor: User, board: BoardFilter) -> dict:
    profiles = list(board_engineers(actor, board).select_related("user__organisation"))
    users = [profile.user for profile in profiles]
    user_ids = [user.pk for user in users]
    events = last_locations(user_ids)
    engineers = [
        _engineer_row(
            profile, board, events.get(profile.user_id), absences_between(profile.user, board.start, board.end)
        )
        for profile in profiles
    ]
    visits = list(
        visits_between(actor, board.start, board.end)
        .filter(Q(engineer_id__in=user_ids) | Q(engineer__isnull=True))
        .select_related("work_order__customer", "work_order__site")
        .order_by("planned_start", "pk")
    )
    if board.team is not None or board.area is not None:
        shapes = _area_shapes(board)
        visits = [v for v in visits if v.engineer_id is not None or _in_areas(v.work_order, shapes)]
    sla = sla_states({visit.work_order_id for visit in visits})
    rows = [_visit_row(visit, sla) for visit in visits]
    homes = {
        p.user_id: (float(p.home_latitude), float(p.home_longitude))
        for p in profiles
        if p.home_latitude is not None and p.home_longitude is not None
    }
    _add_travel(rows, visits, homes)
    return {
        "range": {
            "start": _iso(board.start),
            "end": _iso(board.end),
            "span": board.span,
            "date": board.day.isoformat(),
        },
        "days": _day_segments(board, engineers, rows),
        "engineers": engineers,
        "visits": rows,
        "orders": map_orders(actor, board),
        "map": {"tile_url": settings.FSM_MAP_TILE_URL},
        "stamp": change_stamp(),
        "generated_at": _iso(timezone.now()),
    }


# Change detection


def change_stamp() -> str:
    """Changes whenever anything the board draws may have changed: every order change writes a
    service-log line (status, assignments, visits), visits carry updated_at, absences and new
    orders change the counts. Cheap: a few aggregates on indexed columns."""
    events = WorkOrderEvent.objects.aggregate(last=Max("pk"))
    orders = WorkOrder.objects.aggregate(count=Count("pk"), updated=Max("updated_at"))
    visits = Visit.objects.aggregate(count=Count("pk"), updated=Max("updated_at"))
    absences = Absence.objects.aggregate(count=Count("pk"), last=Max("pk"))
    raw = "|".join(
        str(value)
        for value in (
            events["last"],
            orders["count"],
            orders["updated"],
            visits["count"],
            visits["updated"],
            absences["count"],
            absences["last"],
        )
    )
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()[:16]


# Handing a visit to another engineer


def handover_conflicts(visit: Visit, engineer: User, actor: User) -> list[dict]:
    """What the dispatch services would refuse when a drag gives the visit to another engineer
    (the slot checks do not cover these): a company that does not serve the customer, leave."""
    from django.utils.translation import gettext as _

    if engineer.pk == visit.engineer_id:
        return []
    conflicts = []
    if not engineers_for_order(actor, visit.work_order).filter(pk=engineer.pk).exists():
        message = _("%(name)s works for a company that does not serve this customer.") % {"name": engineer}
        conflicts.append({"code": "other_company", "message": message, "blocking": True})
    if EngineerProfile.objects.filter(user=engineer, availability=Availability.ON_LEAVE).exists():
        message = _("%(name)s is on leave.") % {"name": engineer}
        conflicts.append({"code": "on_leave", "message": message, "blocking": True})
    return conflicts


# The nearest qualified engineers of one order (map) and the queue (list)


def _distance(candidate: Candidate, site, location: dict | None) -> float | None:
    if location is None or site is None or site.latitude is None or site.longitude is None:
        return candidate.distance_km
    return round(great_circle_km(site.latitude, site.longitude, location["lat"], location["lng"]), 1)


def nearest_engineers(order: WorkOrder, actor: User, *, count: int = NEAREST_COUNT) -> list[dict]:
    """Suitable engineers (skill, area, on duty) nearest first, measured from where each was last
    seen (a check-in) or else his home base; when none is suitable, the best of the rest."""
    candidates = candidates_for(order, actor, limit=200)
    suitable = [c for c in candidates if c.is_suitable]
    pool = suitable or candidates
    events = last_locations([c.engineer.pk for c in pool])
    rows = []
    for candidate in pool:
        location = _location(candidate.profile, events.get(candidate.engineer.pk))
        rows.append(
            {
                "id": candidate.engineer.pk,
                "name": str(candidate.engineer),
                "team": candidate.profile.team.name if candidate.profile.team_id else "",
                "suitable": candidate.is_suitable,
                "has_skill": candidate.has_skill,
                "covers_area": candidate.covers_area,
                "on_duty": candidate.on_duty,
                "open_orders": candidate.open_orders,
                "distance_km": _distance(candidate, order.site, location),
                "from": location["source"] if location else "",
            }
        )
    rows.sort(key=lambda row: (row["distance_km"] is None, row["distance_km"] or 0, row["open_orders"]))
    return rows[:count]


def queue_rows(actor: User, board: BoardFilter, *, suggestions: int = 3) -> list[dict]:
    """The dispatch queue (orders waiting for an engineer) in the board's area, urgent first,
    each with its best suggested engineers."""
    shapes = _area_shapes(board)
    orders = orders_to_dispatch(actor).select_related("fault_category__skill")
    chosen = [order for order in orders[: MAX_QUEUE_ROWS * 2] if _in_areas(order, shapes)][:MAX_QUEUE_ROWS]
    sla = sla_states([order.pk for order in chosen])
    chosen.sort(key=lambda o: (PRIORITY_RANK.get(o.priority, 9), -SLA_SEVERITY.get(sla.get(o.pk, ""), 0), o.created_at))
    # One snapshot of the engineers for the whole list.
    ranked = candidates_for_orders(chosen, actor, limit=suggestions)
    return [{"order": order, "sla": sla.get(order.pk, ""), "candidates": ranked.get(order.pk, [])} for order in chosen]
