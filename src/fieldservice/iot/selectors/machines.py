"""Whose machine data a user may see, and what a machine's page shows of it: its live state
(last seen, online or offline by heartbeat, latest values, open alarms), its readings over a
period cut down to a few hundred buckets in the database, and the machines gone silent.

Who sees which machines (Capability.VIEW_MACHINE_DATA):
- our own office staff (agents, dispatchers, directors, administrators): every machine;
- a customer's user: the machines of his own company;
- a provider's administrator: the machines of orders dispatched to his company (or held by one
  of its engineers), as `workorders.selectors.work_orders_for` scopes orders;
- an engineer (ours or a provider's): the machines of orders offered to or accepted by him that
  are open, or were completed or closed in the last `RECENT_DAYS` days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.models import Equipment
from fieldservice.iot.models import Alarm, Device, LatestValue, Presence, Reading
from fieldservice.iot.selectors.alarms import with_descriptions
from fieldservice.workorders.choices import OPEN_STATUSES
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.selectors import ACTIVE_OR_DONE_ASSIGNMENT, work_orders_for

RECENT_DAYS = 30  # an engineer still sees the machine of an order he finished this long ago
CHART_POINTS = 500  # at most this many buckets per series on a chart
MAX_PERIOD_DAYS = 366  # the longest period a chart (page or API) spans


def machines_for(actor: User, *, now: dt.datetime | None = None) -> QuerySet[Equipment]:
    """The machines whose data (readings, alarms, presence) the actor may see."""
    machines = Equipment.objects.select_related("product_model", "customer", "site")
    if not getattr(actor, "is_authenticated", False) or not can(actor, Capability.VIEW_MACHINE_DATA):
        return machines.none()
    if actor.is_own_staff and (actor.is_superuser or actor.role_codes - {"engineer"}):
        return machines
    kind = actor.organisation_kind
    if kind == OrganisationKind.CUSTOMER:
        return machines.filter(customer__organisation_id=actor.organisation_id)
    if kind == OrganisationKind.PROVIDER and can(actor, Capability.ASSIGN_PROVIDER_ENGINEERS):
        orders = work_orders_for(actor).filter(equipment__isnull=False)
        return machines.filter(pk__in=orders.values("equipment_id"))
    # An engineer: the machines he is visiting, or visited lately.
    since = (now or timezone.now()) - dt.timedelta(days=RECENT_DAYS)
    orders = WorkOrder.objects.filter(
        assignments__engineer=actor,
        assignments__status__in=ACTIVE_OR_DONE_ASSIGNMENT,
        equipment__isnull=False,
    ).filter(Q(status__in=OPEN_STATUSES) | Q(completed_at__gte=since) | Q(closed_at__gte=since))
    return machines.filter(pk__in=orders.values("equipment_id"))


def get_machine_for(actor: User, pk: int) -> Equipment:
    """One machine whose data the actor may see: 404 for a missing one and for another's."""
    return get_object_or_404(machines_for(actor), pk=pk)


def may_see_machine(actor: User, equipment: Equipment) -> bool:
    return equipment is not None and machines_for(actor).filter(pk=equipment.pk).exists()


# --- live state ---


@dataclass
class LiveState:
    equipment: Equipment
    last_seen_at: dt.datetime | None
    expected_interval_seconds: int | None
    online: bool | None  # None: never heard from
    latest: list[LatestValue] = field(default_factory=list)
    open_alarms: list[Alarm] = field(default_factory=list)
    connected: bool = False  # a device reports (or reported) for it

    @property
    def never_seen(self) -> bool:
        return self.last_seen_at is None

    @property
    def silent_for(self) -> dt.timedelta | None:
        return None if self.last_seen_at is None else timezone.now() - self.last_seen_at


def is_online(presence: Presence | None, now: dt.datetime) -> bool | None:
    """Online while heard from within its expected interval; None when never heard from."""
    if presence is None:
        return None
    return now - presence.last_seen_at <= dt.timedelta(seconds=presence.expected_interval_seconds)


def live_state(equipment: Equipment, *, now: dt.datetime | None = None) -> LiveState:
    """Call with a machine from `get_machine_for` (or `may_see_machine`), which did the scoping."""
    now = now or timezone.now()
    presence = Presence.objects.filter(equipment=equipment).first()
    return LiveState(
        equipment=equipment,
        last_seen_at=presence.last_seen_at if presence else None,
        expected_interval_seconds=presence.expected_interval_seconds if presence else None,
        online=is_online(presence, now),
        latest=list(LatestValue.objects.filter(equipment=equipment).order_by("metric")),
        open_alarms=list(
            with_descriptions(Alarm.objects.filter(equipment=equipment, cleared_at__isnull=True)).order_by("-raised_at")
        ),
        connected=presence is not None or Device.objects.filter(machines=equipment).exists(),
    )


def metrics_of(equipment: Equipment) -> list[str]:
    """The metrics a machine reports (those it has a latest value of), for the chart's picker."""
    return list(LatestValue.objects.filter(equipment=equipment).order_by("metric").values_list("metric", flat=True))


# --- connected, online and offline machines ---


class Overdue(Func):
    """Seconds a machine has been silent beyond its expected interval at `now` (negative while
    online): (now - last seen) - interval, in the database."""

    arity = 3  # now, last seen, interval in seconds
    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        now, seen, interval = (compiler.compile(e) for e in self.source_expressions)
        sql = f"(EXTRACT(EPOCH FROM ({now[0]} - {seen[0]})) - {interval[0]})"
        return sql, (*now[1], *seen[1], *interval[1])

    def as_sqlite(self, compiler, connection, **extra):
        now, seen, interval = (compiler.compile(e) for e in self.source_expressions)
        sql = f"((julianday({now[0]}) - julianday({seen[0]})) * 86400.0 - {interval[0]})"
        return sql, (*now[1], *seen[1], *interval[1])


def _overdue(now: dt.datetime) -> Overdue:
    return Overdue(
        Value(now, output_field=DateTimeField()),
        F("presence__last_seen_at"),
        F("presence__expected_interval_seconds"),
    )


def connected_machines_for(actor: User) -> QuerySet[Equipment]:
    """The actor's machines that a device serves (revoked or not) or that were heard from."""
    served = Device.machines.through.objects.filter(equipment_id=OuterRef("pk"))
    return machines_for(actor).filter(Q(Exists(served)) | Q(presence__isnull=False))


def offline_machines_for(actor: User, *, now: dt.datetime | None = None) -> QuerySet[Equipment]:
    """The actor's machines silent for longer than their expected interval, with `last_seen_at`
    and `expected_seconds` annotated; the longest silent first."""
    now = now or timezone.now()
    return (
        machines_for(actor)
        .filter(presence__isnull=False)
        .alias(overdue=_overdue(now))
        .filter(overdue__gt=0)
        .annotate(last_seen_at=F("presence__last_seen_at"), expected_seconds=F("presence__expected_interval_seconds"))
        .order_by("presence__last_seen_at", "pk")
    )


def filter_offline(machines: QuerySet[Equipment], *, text: str = "", customer=None) -> QuerySet[Equipment]:
    text = (text or "").strip()
    if text:
        machines = machines.filter(
            Q(serial_number__icontains=text)
            | Q(product_model__code__icontains=text)
            | Q(customer__name__icontains=text)
            | Q(site__name__icontains=text)
            | Q(site__city__icontains=text)
        )
    if customer:
        machines = machines.filter(customer=customer)
    return machines


def with_connection(machines: QuerySet[Equipment]) -> QuerySet[Equipment]:
    """The machines with their presence loaded (`is_online` judges it) and `open_alarm_count`
    annotated, for lists that show each machine's state."""
    open_alarms = (
        Alarm.objects.filter(equipment_id=OuterRef("pk"), cleared_at__isnull=True)
        .order_by()
        .values("equipment_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return machines.select_related("presence").annotate(
        open_alarm_count=Coalesce(Subquery(open_alarms, output_field=IntegerField()), 0)
    )


@dataclass(frozen=True)
class Counts:
    online: int
    offline: int
    never_seen: int

    @property
    def total(self) -> int:
        return self.online + self.offline + self.never_seen


def connection_counts(actor: User, *, now: dt.datetime | None = None) -> Counts:
    """How many of the actor's connected machines are online, offline, or never heard from."""
    now = now or timezone.now()
    connected = connected_machines_for(actor)
    never = connected.filter(presence__isnull=True).count()
    offline = offline_machines_for(actor, now=now).count()
    seen = machines_for(actor).filter(presence__isnull=False).count()
    return Counts(online=seen - offline, offline=offline, never_seen=never)


# --- readings over a period ---


@dataclass(frozen=True)
class Bucket:
    at: dt.datetime  # the bucket's first reading
    low: float
    high: float
    mean: float
    count: int


def _bucket_sql(vendor: str) -> str:
    table = connection.ops.quote_name(Reading._meta.db_table)
    if vendor == "postgresql":
        index = "floor(extract(epoch from (at - %s)) / %s)::bigint"
    else:
        index = "CAST((julianday(at) - julianday(%s)) * 86400.0 / %s AS INTEGER)"
    return (
        f"SELECT {index} AS b, MIN(at), MIN(value), MAX(value), AVG(value), COUNT(*) "  # noqa: S608 - no user text
        f"FROM {table} WHERE equipment_id = %s AND metric = %s AND at >= %s AND at < %s "
        "GROUP BY b ORDER BY b"
    )


def readings_series(
    equipment: Equipment, metric: str, start: dt.datetime, end: dt.datetime, *, limit: int = CHART_POINTS
) -> list[Bucket]:
    """The machine's readings of `metric` in [start, end), grouped in the database into at most
    `limit` equal slices of time: each with its low, high and mean (the chart draws the band and
    the line), so a month of readings every ten seconds comes back as `limit` rows."""
    if end <= start or limit < 1:
        return []
    # Slightly wider slices than span/limit so that rounding never makes one more.
    width = (end - start).total_seconds() / limit * (1 + 1e-9)
    adapt = connection.ops.adapt_datetimefield_value
    params = [adapt(start), width, equipment.pk, metric, adapt(start), adapt(end)]
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(_bucket_sql(vendor), params)
        rows = cursor.fetchall()
    buckets = []
    for _index, first, low, high, mean, count in rows:
        if isinstance(first, str):  # SQLite returns MIN(at) as text
            first = dt.datetime.fromisoformat(first)
        if timezone.is_naive(first):
            first = first.replace(tzinfo=dt.UTC)
        buckets.append(Bucket(at=first, low=low, high=high, mean=mean, count=count))
    return buckets


def alarms_between(equipment: Equipment, start: dt.datetime, end: dt.datetime) -> QuerySet[Alarm]:
    """The machine's alarms open at some moment of [start, end)."""
    return Alarm.objects.filter(equipment=equipment, raised_at__lt=end).filter(
        Q(cleared_at__isnull=True) | Q(cleared_at__gte=start)
    )


def orders_between(actor: User, equipment: Equipment, start: dt.datetime, end: dt.datetime) -> QuerySet[WorkOrder]:
    """The machine's orders the actor may see, created in [start, end) or still open then."""
    orders = work_orders_for(actor).filter(equipment=equipment, created_at__lt=end)
    return orders.filter(
        Q(status__in=OPEN_STATUSES) | Q(closed_at__gte=start) | Q(completed_at__gte=start) | Q(created_at__gte=start)
    ).order_by("created_at")
