"""The periodic SLA check: escalation messages and breaches, computed from the clocks' state.

Each run takes the running clocks whose `next_check_at` has come (one indexed query), works out
which escalation rules have fired and which clocks breached, writes keyed outbox messages (so a
second run, or a run after a long downtime, sends each message once) and moves `next_check_at` on
to the next rule or the due time. Reads and writes are in bulk: one query per recipient role.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation

from fieldservice.accounts.choices import OrganisationKind, Role
from fieldservice.accounts.models import User
from fieldservice.core.outbox import emit_many
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.dispatch.models import Assignment
from fieldservice.sla.calendar import load_calendars
from fieldservice.sla.choices import NotifyRole, TargetKind
from fieldservice.sla.models import SlaClock
from fieldservice.sla.services.clocks import Rule, active_rules, evaluate
from fieldservice.workorders.choices import Priority

logger = logging.getLogger(__name__)

# Clocks handled per transaction; a run goes on until no clock is due.
BATCH = 10_000
# Messages per outbox write (keeps the key look-up's IN list modest on every database).
EMIT_CHUNK = 1_000
# Plain strings: compared thousands of times per run.
DISPATCHER, DIRECTOR = NotifyRole.DISPATCHER.value, NotifyRole.DIRECTOR.value
TEAM_LEAD, ASSIGNED_ENGINEER = NotifyRole.TEAM_LEAD.value, NotifyRole.ASSIGNED_ENGINEER.value
ACCOUNT_OWNER = NotifyRole.ACCOUNT_OWNER.value
NOBODY = (None, None)
ESCALATION_TOPIC = "sla.escalation"
BREACH_TOPIC = "sla.breached"
# What the check reads of each due clock, in this order (see DueClock).
DUE_FIELDS = (
    "id",
    "kind",
    "calendar_id",
    "target_minutes",
    "started_at",
    "due_at",
    "paused_business_minutes",
    "breached_at",
    "work_order_id",
    "work_order__number",
    "work_order__priority",
    "work_order__customer__name",
    "work_order__customer__account_owner_id",
)


@dataclass(slots=True)
class DueClock:
    """A running clock as the check needs it (plain values: thousands are read per run)."""

    pk: int
    kind: str
    calendar_id: int
    target_minutes: int
    started_at: datetime
    due_at: datetime
    paused_business_minutes: float
    breached_at: datetime | None
    work_order_id: int
    number: str | None
    priority: str
    customer: str
    account_owner_id: int | None
    paused_at: None = None  # only running clocks are due
    next_check_at: datetime | None = None


def _due_clocks(now: datetime) -> list[DueClock]:
    """The running clocks whose next check has come, locked (skipping those another check holds,
    so two checks never handle the same clock). The filter matches the partial index
    `sla_clock_next_check`."""
    clocks = (
        SlaClock.objects.filter(
            met_at__isnull=True,
            paused_at__isnull=True,
            stopped_at__isnull=True,
            next_check_at__isnull=False,
            next_check_at__lte=now,
        )
        .order_by("next_check_at")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list(*DUE_FIELDS)[:BATCH]
    )
    if connection.vendor != "postgresql":
        return [DueClock(*row) for row in clocks]
    # Django reads timestamptz with a Python loader (~20 µs a value); this cursor uses psycopg's
    # compiled one, in the connection's zone (UTC), which reads a batch several times faster.
    from psycopg.types.datetime import TimestamptzLoader

    sql, params = clocks.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        cursor.execute(sql, params)
        return [DueClock(*row) for row in cursor.fetchall()]


class Recipients:
    """Who each role means, found with one query per role for the whole batch."""

    def __init__(self, fired: list[tuple[DueClock, Rule]]):
        self._staff: dict[str, list[int]] = {}
        self._assignments: dict[int, tuple[int | None, int | None]] = {}
        self._owners: set[int] = set()
        # Only the orders whose fired rules name these people.
        orders = {clock.work_order_id for clock, rule in fired if rule.notify in (TEAM_LEAD, ASSIGNED_ENGINEER)}
        owners = {clock.account_owner_id for clock, rule in fired if rule.notify == ACCOUNT_OWNER} - {None}
        if orders:
            self._assignments = self._lead_engineers(orders)
        if owners:
            self._owners = set(User.objects.filter(pk__in=owners, is_active=True).values_list("pk", flat=True))

    def staff(self, role: str) -> list[int]:
        if role not in self._staff:
            self._staff[role] = list(
                User.objects.filter(is_active=True, roles__role=role, organisation__kind=OrganisationKind.OWN)
                .order_by("pk")
                .values_list("pk", flat=True)
                .distinct()
            )
        return self._staff[role]

    @staticmethod
    def _lead_engineers(order_ids: set[int]) -> dict[int, tuple[int | None, int | None]]:
        """order -> (its active lead engineer, that engineer's team lead), active users only."""
        found = {}
        rows = Assignment.objects.filter(
            work_order_id__in=order_ids,
            role=AssignmentRole.LEAD,
            status__in=ACTIVE_ASSIGNMENT_STATUSES,
            engineer__isnull=False,
            engineer__is_active=True,
        ).values_list(
            "work_order_id",
            "engineer_id",
            "engineer__engineer_profile__team__leader_id",
            "engineer__engineer_profile__team__leader__is_active",
        )
        for order_id, engineer_id, leader_id, leader_active in rows:
            found[order_id] = (engineer_id, leader_id if leader_active else None)
        return found

    def for_rule(self, rule: Rule, clock: DueClock) -> list[int]:
        """The people to tell; the dispatchers when the role names nobody (no engineer assigned
        yet, no team lead, no account owner)."""
        notify = rule.notify
        if notify == DISPATCHER:
            return self.staff(Role.DISPATCHER)
        if notify == DIRECTOR:
            return self.staff(Role.DIRECTOR)
        if notify == TEAM_LEAD:
            person = self._assignments.get(clock.work_order_id, NOBODY)[1]
        elif notify == ASSIGNED_ENGINEER:
            person = self._assignments.get(clock.work_order_id, NOBODY)[0]
        elif notify == ACCOUNT_OWNER:
            person = clock.account_owner_id if clock.account_owner_id in self._owners else None
        else:
            person = None
        return [person] if person else self.staff(Role.DISPATCHER)


def _messages(fired: list[tuple[DueClock, Rule]], breaches: list[DueClock], recipients: Recipients) -> list[tuple]:
    # One reverse for all orders (a reverse per message costs more than the rest of the message).
    placeholder = "2147483647"
    url = reverse("workorders:order_detail", args=[placeholder])
    zone = timezone.get_current_timezone()
    shown: dict[int, str] = {}

    def due_text(clock: DueClock) -> str:
        if clock.pk not in shown:
            shown[clock.pk] = clock.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        return shown[clock.pk]

    messages = []
    # The context is for people reading a notification: in the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        target_labels = {kind: str(kind.label) for kind in TargetKind}
        priority_labels = {priority: str(priority.label) for priority in Priority}
        for clock, rule in fired:
            payload = {
                "event": "sla.breached" if rule.is_breach else "sla.warning",
                "recipients": recipients.for_rule(rule, clock),
                "context": {
                    "number": clock.number or "",
                    "customer": clock.customer,
                    "target": target_labels.get(clock.kind, clock.kind),
                    "due_at": due_text(clock),
                    "rule": rule.name,
                    "priority": priority_labels.get(clock.priority, clock.priority),
                },
                "url": url.replace(placeholder, str(clock.work_order_id)),
                "work_order": clock.work_order_id,
                "target": clock.kind,
                "rule": rule.pk,
            }
            messages.append((ESCALATION_TOPIC, payload, f"sla-esc:{clock.pk}:{rule.pk}"))
    for clock in breaches:
        payload = {
            "work_order": clock.work_order_id,
            "number": clock.number or "",
            "target": clock.kind,
            "due_at": clock.due_at.isoformat(),
            "breached_at": clock.breached_at.isoformat(),
        }
        messages.append((BREACH_TOPIC, payload, f"sla-breach:{clock.pk}"))
    return messages


def _save(clocks: list[DueClock]) -> None:
    """Write each clock's breached_at and next_check_at. On PostgreSQL one UPDATE joins the new
    values as arrays (linear); Django's bulk_update builds a CASE per row, whose cost grows with
    the square of the batch and took seconds for a few thousand clocks."""
    if connection.vendor != "postgresql":
        rows = [
            SlaClock(pk=clock.pk, breached_at=clock.breached_at, next_check_at=clock.next_check_at) for clock in clocks
        ]
        SlaClock.objects.bulk_update(rows, ["breached_at", "next_check_at"], batch_size=500)
        return
    table = connection.ops.quote_name(SlaClock._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS clock SET breached_at = new.breached_at, next_check_at = new.next_check_at "
            "FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS new(id, breached_at, next_check_at) "
            "WHERE clock.id = new.id",
            [
                [clock.pk for clock in clocks],
                [clock.breached_at for clock in clocks],
                [clock.next_check_at for clock in clocks],
            ],
        )


def _check_batch(now: datetime, rules: list[Rule], counts: Counter) -> int:
    with transaction.atomic():
        clocks = _due_clocks(now)
        if not clocks:
            return 0
        specs = load_calendars({clock.calendar_id for clock in clocks})
        fired_pairs: list[tuple[DueClock, Rule]] = []
        breaches: list[DueClock] = []
        for clock in clocks:
            fired, next_check = evaluate(specs[clock.calendar_id], clock, rules, clock.priority, now)
            fired_pairs.extend((clock, rule) for rule in fired)
            if clock.breached_at is None and now >= clock.due_at:
                clock.breached_at = clock.due_at
                breaches.append(clock)
            # Never again in this run, even if rounding put the next moment at `now`.
            clock.next_check_at = max(next_check, now + timedelta(seconds=1)) if next_check else None
        recipients = Recipients(fired_pairs)
        messages = _messages(fired_pairs, breaches, recipients)
        for start in range(0, len(messages), EMIT_CHUNK):
            counts["emitted"] += emit_many(messages[start : start + EMIT_CHUNK])
        _save(clocks)
    counts["checked"] += len(clocks)
    counts["fired"] += len(fired_pairs)
    counts["breached"] += len(breaches)
    return len(clocks)


def check_clocks(now: datetime | None = None) -> dict:
    """Escalate and mark breaches for every clock due by `now`. Returns counts: clocks checked,
    rules fired, clocks newly breached, outbox messages newly stored."""
    now = now or timezone.now()
    rules = active_rules()
    counts: Counter = Counter({"checked": 0, "fired": 0, "breached": 0, "emitted": 0})
    while _check_batch(now, rules, counts) == BATCH:
        pass
    if counts["checked"]:
        logger.info("SLA check: %s", dict(counts))
    return dict(counts)
