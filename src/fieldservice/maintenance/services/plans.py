"""Maintenance plans (保养计划): their rules, and the generation of the visits they make due.

`generate_due_visits` is the periodic check ("maintenance.generate"), the "generate now" button
and the benchmark's path: for every active plan it works out each covered machine's next due date
(by the calendar, by usage projected from its meter readings, or whichever comes first), writes
the due visits within the plan's lead days with ON CONFLICT DO NOTHING against the unique
(machine, day) constraint, and opens the orders of the rows it wrote, and only those, through
`workorders.services.proactive.open_proactive_orders`. A second run, or two at once, opens nothing
twice.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.choices import OPERATING_HOURS, EquipmentStatus
from fieldservice.assets.demand import sites_in
from fieldservice.assets.models import Equipment, MeterReading
from fieldservice.contracts.choices import ContractStatus
from fieldservice.contracts.models import Contract
from fieldservice.core.choices import Priority, ServiceType, WorkOrderStatus
from fieldservice.core.db import any_of, insert_rows, instances_of, int_array, reserve_ids
from fieldservice.core.errors import field_error, require
from fieldservice.core.events import record_created, record_updated, snapshot
from fieldservice.core.outbox import emit_many
from fieldservice.core.validation import check_date, check_length
from fieldservice.field.models import JobTemplate
from fieldservice.field.services import attach_job_steps
from fieldservice.inventory.models import Part
from fieldservice.inventory.services import quantity_of
from fieldservice.maintenance.models import CalendarBase, DueReason, DueVisit, MaintenancePlan, PlanPart, PlanScope
from fieldservice.maintenance.models.plans import PLAN_SERVICE_TYPES
from fieldservice.workorders.models import WorkOrder
from fieldservice.workorders.services.proactive import ProactiveSpec, open_proactive_orders

PLAN_FIELDS = (
    "name",
    "scope",
    "equipment",
    "product_model",
    "contract",
    "interval_months",
    "calendar_base",
    "interval_hours",
    "meter",
    "job_template",
    "lead_days",
    "service_type",
    "priority",
    "owner",
    "is_active",
    "starts_on",
    "ends_on",
    "notes",
)
MAX_INTERVAL_MONTHS = 120
MAX_INTERVAL_HOURS = 1_000_000
MAX_LEAD_DAYS = 365
MAX_PLAN_PARTS = 50
# A run writes at most this many visits of one plan for one machine (its lead days are short).
MAX_VISITS_PER_RUN = 12
# Usage is projected from the readings of the last year.
USAGE_WINDOW_DAYS = 365


def may_manage_plans(actor: User) -> bool:
    return can(actor, Capability.MANAGE_MAINTENANCE)


def _positive(value, field_name: str, limit: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise field_error(field_name, _("Enter a whole number."), "invalid") from None
    if number <= 0:
        raise field_error(field_name, _("The interval must be more than 0."), "min_value")
    if number > limit:
        raise field_error(field_name, _("At most %(n)d.") % {"n": limit}, "max_value")
    return number


def _clean(values: dict) -> dict:
    """The plan's fields checked, each refusal naming its field."""
    data = dict(values)
    data["name"] = check_length((data.get("name") or "").strip(), model=MaintenancePlan, field="name")
    if not data["name"]:
        raise field_error("name", _("Give the plan a name."), "required")
    scope = data.get("scope")
    if scope not in PlanScope.values:
        raise field_error("scope", _("Say what the plan applies to."), "invalid_choice")
    targets = {PlanScope.MACHINE: "equipment", PlanScope.MODEL: "product_model", PlanScope.CONTRACT: "contract"}
    for other_scope, name in targets.items():
        if other_scope != scope:
            data[name] = None
    target = data.get(targets[scope])
    if target is None:
        messages = {
            PlanScope.MACHINE: _("Choose the machine."),
            PlanScope.MODEL: _("Choose the product model."),
            PlanScope.CONTRACT: _("Choose the contract."),
        }
        raise field_error(targets[scope], messages[scope], "required")
    if scope == PlanScope.MACHINE and not target.is_registered:
        raise field_error("equipment", _("Only registered machines can have a plan."), "not_registered")
    if scope == PlanScope.CONTRACT and not target.maintenance_visits_per_year:
        raise field_error(
            "contract",
            _("The contract includes no maintenance visits a year; set them on the contract first."),
            "no_visits",
        )
    data["interval_months"] = _positive(data.get("interval_months"), "interval_months", MAX_INTERVAL_MONTHS)
    data["interval_hours"] = _positive(data.get("interval_hours"), "interval_hours", MAX_INTERVAL_HOURS)
    if data["interval_months"] is None and data["interval_hours"] is None and scope != PlanScope.CONTRACT:
        raise field_error(
            "interval_months", _("Give an interval: every so many months, operating hours, or both."), "required"
        )
    data["meter"] = check_length(
        (data.get("meter", OPERATING_HOURS) or "").strip(), model=MaintenancePlan, field="meter"
    )
    if data["interval_hours"] is not None and not data["meter"]:
        raise field_error("meter", _("A usage interval needs the meter it counts on."), "required")
    if data.get("calendar_base", CalendarBase.INSTALLATION) not in CalendarBase.values:
        raise field_error("calendar_base", _("Unknown choice."), "invalid_choice")
    data.setdefault("calendar_base", CalendarBase.INSTALLATION)
    lead = data.get("lead_days", 14)
    try:
        lead = int(lead)
    except (TypeError, ValueError):
        raise field_error("lead_days", _("Enter a whole number."), "invalid") from None
    if not 0 <= lead <= MAX_LEAD_DAYS:
        raise field_error("lead_days", _("Between 0 and %(n)d days.") % {"n": MAX_LEAD_DAYS}, "out_of_range")
    data["lead_days"] = lead
    if data.get("service_type", ServiceType.MAINTENANCE) not in PLAN_SERVICE_TYPES:
        raise field_error("service_type", _("A plan makes maintenance or inspection visits."), "invalid_choice")
    data.setdefault("service_type", ServiceType.MAINTENANCE)
    if data.get("priority", Priority.NORMAL) not in Priority.values:
        raise field_error("priority", _("Unknown priority."), "invalid_choice")
    data.setdefault("priority", Priority.NORMAL)
    template = data.get("job_template")
    if template is not None and not getattr(template, "is_active", True):
        raise field_error("job_template", _("This job template is no longer used."), "inactive")
    if data.get("starts_on") is None:
        raise field_error("starts_on", _("Give the date the plan starts."), "required")
    data["starts_on"] = check_date(data["starts_on"], field="starts_on")
    if data.get("ends_on") is not None:
        data["ends_on"] = check_date(data["ends_on"], field="ends_on")
        if data["ends_on"] < data["starts_on"]:
            raise field_error("ends_on", _("The plan ends before it starts."), "end_before_start")
    data["notes"] = (data.get("notes") or "").strip()
    data["is_active"] = bool(data.get("is_active", True))
    return data


def _parts(parts) -> list[tuple[Part, Decimal]]:
    parts = list(parts or [])
    if len(parts) > MAX_PLAN_PARTS:
        raise field_error("parts", _("At most %(count)s parts may be listed.") % {"count": MAX_PLAN_PARTS}, "too_many")
    seen, clean = set(), []
    for index, (part, quantity) in enumerate(parts):
        amount = quantity_of(quantity, f"parts[{index}].quantity")
        if part.pk in seen:
            raise field_error(
                f"parts[{index}].part", _("%(part)s is listed twice.") % {"part": part.part_number}, "duplicate"
            )
        if not part.is_active:
            raise field_error(
                f"parts[{index}].part", _("%(part)s is no longer used.") % {"part": part.part_number}, "inactive"
            )
        seen.add(part.pk)
        clean.append((part, amount))
    return clean


def _set_parts(plan: MaintenancePlan, parts: list[tuple[Part, Decimal]]) -> None:
    PlanPart.objects.filter(plan=plan).delete()
    PlanPart.objects.bulk_create([PlanPart(plan=plan, part=part, quantity=amount) for part, amount in parts])


@transaction.atomic
def create_plan(*, actor: User, parts=None, **values) -> MaintenancePlan:
    """A new plan; `values` are the plan's fields (PLAN_FIELDS), `parts` (part, quantity) pairs."""
    require(may_manage_plans(actor))
    unknown = set(values) - set(PLAN_FIELDS)
    if unknown:
        raise field_error(sorted(unknown)[0], _("Unknown field."), "unknown")
    data = _clean(values)
    clean_parts = _parts(parts)
    plan = MaintenancePlan.objects.create(**data, created_by=actor)
    _set_parts(plan, clean_parts)
    record_created(plan, actor=actor, fields=PLAN_FIELDS)
    return plan


@transaction.atomic
def update_plan(plan: MaintenancePlan, *, actor: User, parts=None, **values) -> MaintenancePlan:
    """Change a plan; fields not given keep their value; `parts` (when given) is the whole list.
    Visits already due keep their orders."""
    require(may_manage_plans(actor))
    unknown = set(values) - set(PLAN_FIELDS)
    if unknown:
        raise field_error(sorted(unknown)[0], _("Unknown field."), "unknown")
    plan = MaintenancePlan.objects.select_for_update().get(pk=plan.pk)
    before = snapshot(plan, PLAN_FIELDS)
    current = {name: getattr(plan, name) for name in PLAN_FIELDS}
    data = _clean(current | values)
    for name, value in data.items():
        setattr(plan, name, value)
    plan.save()
    if parts is not None:
        _set_parts(plan, _parts(parts))
    record_updated(plan, actor=actor, before=before)
    return plan


def plan_warnings(plan: MaintenancePlan) -> list[str]:
    """What is allowed but probably not meant: shown to the person who saved the plan."""
    warnings = []
    if (
        plan.scope == PlanScope.MODEL
        and not registered(Equipment.objects.filter(product_model_id=plan.product_model_id)).exists()
    ):
        warnings.append(_("No registered machine of this model yet: the plan makes no visits until one is registered."))
    if (
        plan.interval_hours
        and plan.scope == PlanScope.MACHINE
        and not MeterReading.objects.filter(equipment_id=plan.equipment_id, meter=plan.meter).exists()
    ):
        warnings.append(_("The machine has no readings of this meter yet: usage cannot be projected until it has."))
    return warnings


def registered(machines):
    return machines.filter(status=EquipmentStatus.REGISTERED)


# ---------------------------------------------------------------- the dates


@functools.lru_cache(maxsize=65536)  # a run asks for the same few thousand dates again and again
def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


@functools.lru_cache(maxsize=65536)
def next_on_grid(anchor: dt.date, months: int, after: dt.date, *, inclusive: bool) -> dt.date:
    """The first date anchor + k·months (k ≥ 1) on or after (`inclusive`) / after `after`."""
    # anchor + k·months falls in a month no later than `after`'s for this k, so k or k + 1.
    k = max(1, months_between(anchor, after) // months)
    day = add_months(anchor, k * months)
    if day < after or (day == after and not inclusive):
        day = add_months(anchor, (k + 1) * months)
    return day


@dataclass
class Usage:
    """A machine's meter in the usage window: the last reading and the daily rate."""

    value: Decimal
    read_on: dt.date
    rate: float | None  # units a day; None when it cannot be projected
    # The reading before the newest (a connected machine's meter just moved on): with no visit
    # due yet, the first threshold counts from it, so the one the newest reading passed is due.
    before: Decimal | None = None


@dataclass
class Due:
    plan_id: int
    equipment_id: int
    due_on: dt.date
    reason: str
    meter_value: Decimal | None = None
    visit_id: int | None = None  # the row written, where its order is linked after


def due_for(
    plan: PlanRow,
    machine: tuple[int, dt.date | None],
    *,
    today: dt.date,
    last_due: dt.date | None,
    last_threshold: Decimal | None,
    last_visit: dt.date | None,
    usage: Usage | None,
) -> Due | None:
    """The machine's next due visit under the plan, or None (nothing to count on)."""
    equipment_id, installed_on = machine
    start = plan.starts_on
    candidates: list[tuple[dt.date, str, Decimal | None]] = []
    months = plan.interval_months
    if months:
        if plan.calendar_base == CalendarBase.INSTALLATION:
            anchor = installed_on or start
            if last_due is not None:
                day = next_on_grid(anchor, months, last_due, inclusive=False)
            else:
                day = next_on_grid(anchor, months, max(start, today), inclusive=True)
        else:
            anchor = max([d for d in (last_due, last_visit) if d is not None], default=None)
            if anchor is None:
                day = max(add_months(installed_on or start, months), today)
            else:
                day = add_months(anchor, months)
                if last_due is None:
                    day = max(day, today)
        candidates.append((max(day, start), DueReason.CALENDAR, None))
    hours = plan.interval_hours
    if hours and usage is not None:
        step = Decimal(hours)
        if last_threshold is not None:
            threshold = last_threshold + step
        else:
            threshold = ((usage.value if usage.before is None else usage.before) // step + 1) * step
        if usage.value >= threshold:
            # Past one or more thresholds already: one visit now, for the last one passed.
            threshold = max(threshold, (usage.value // step) * step)
            day = today
        elif usage.rate:
            day = usage.read_on + dt.timedelta(days=math.ceil(float(threshold - usage.value) / usage.rate))
        else:
            day = None
        if day is not None:
            candidates.append((max(day, today, start), DueReason.USAGE, threshold))
    if not candidates:
        return None
    day, reason, threshold = min(candidates, key=lambda c: (c[0], c[1] != DueReason.USAGE))
    if reason == DueReason.CALENDAR and hours and usage is not None:
        # A calendar visit also restarts the usage count, from the reading expected on the day.
        expected = usage.value + Decimal(str(round((usage.rate or 0) * max((day - usage.read_on).days, 0), 2)))
        threshold = (expected // Decimal(hours)) * Decimal(hours) if expected >= hours else None
    return Due(plan.pk, equipment_id, day, reason, threshold)


@dataclass
class PlanRow:
    """What generation needs of a plan, read once."""

    pk: int
    name: str
    scope: str
    equipment_id: int | None
    product_model_id: int | None
    contract_id: int | None
    interval_months: int | None
    calendar_base: str
    interval_hours: int | None
    meter: str
    job_template_id: int | None
    lead_days: int
    service_type: str
    priority: str
    starts_on: dt.date
    ends_on: dt.date | None
    parts: list[tuple[int, Decimal]] = field(default_factory=list)


@dataclass
class GenerationSummary:
    plans: int = 0
    machines: int = 0
    due_written: int = 0
    orders_opened: int = 0
    orders: list[WorkOrder] = field(default_factory=list, repr=False)


# What is done with a batch of plan orders once they exist: the lead points this at
# field.services.attach_job_steps(orders, template=...) at merge (field sits below maintenance,
# so maintenance may call it; it is a hook here only because it is written on another branch).
def _active_plans(today: dt.date, plan_ids=None) -> list[PlanRow]:
    plans = MaintenancePlan.objects.filter(
        is_active=True, starts_on__lte=today + dt.timedelta(days=MAX_LEAD_DAYS)
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    if plan_ids is not None:
        plans = plans.filter(pk__in=plan_ids)
    rows = {
        values["pk"]: PlanRow(**values)
        for values in plans.values(
            "pk",
            "name",
            "scope",
            "equipment_id",
            "product_model_id",
            "contract_id",
            "interval_months",
            "calendar_base",
            "interval_hours",
            "meter",
            "job_template_id",
            "lead_days",
            "service_type",
            "priority",
            "starts_on",
            "ends_on",
        )
    }
    contract_ids = {row.contract_id for row in rows.values() if row.contract_id}
    contracts = {
        pk: (visits, starts, ends)
        for pk, visits, starts, ends in Contract.objects.filter(
            pk__in=contract_ids, status=ContractStatus.ACTIVE
        ).values_list("pk", "maintenance_visits_per_year", "starts_on", "ends_on")
    }
    for row in list(rows.values()):
        if row.scope != PlanScope.CONTRACT:
            continue
        terms = contracts.get(row.contract_id)
        if terms is None or not terms[0]:
            del rows[row.pk]  # a contract not (or no longer) active makes no visits
            continue
        visits, starts, ends = terms
        row.interval_months = row.interval_months or max(1, 12 // visits)
        row.starts_on = max(row.starts_on, starts)
        row.ends_on = min(row.ends_on, ends) if row.ends_on else ends
    for plan_id, part_id, quantity in PlanPart.objects.filter(plan_id__in=any_of(list(rows))).values_list(
        "plan_id", "part_id", "quantity"
    ):
        rows[plan_id].parts.append((part_id, quantity))
    return list(rows.values())


def _covered(plans: list[PlanRow], equipment_ids=None) -> dict[int, list[tuple[int, dt.date | None]]]:
    """{plan id: [(machine id, installation date)]}: the registered machines each plan covers
    (among `equipment_ids`, when given)."""
    covered: dict[int, list] = defaultdict(list)
    machines = registered(Equipment.objects.all())
    if equipment_ids is not None:
        machines = machines.filter(pk__in=any_of(equipment_ids))
    by_model = defaultdict(list)
    for plan in plans:
        if plan.scope == PlanScope.MODEL:
            by_model[plan.product_model_id].append(plan.pk)
    if by_model:
        for pk, model_id, installed in machines.filter(product_model_id__in=list(by_model)).values_list(
            "pk", "product_model_id", "installed_on"
        ):
            for plan_id in by_model[model_id]:
                covered[plan_id].append((pk, installed))
    single = defaultdict(list)
    for plan in plans:
        if plan.scope == PlanScope.MACHINE:
            single[plan.equipment_id].append(plan.pk)
    if single:
        for pk, installed in machines.filter(pk__in=any_of(list(single))).values_list("pk", "installed_on"):
            for plan_id in single[pk]:
                covered[plan_id].append((pk, installed))
    by_contract = defaultdict(list)
    for plan in plans:
        if plan.scope == PlanScope.CONTRACT:
            by_contract[plan.contract_id].append(plan.pk)
    if by_contract:
        links = Contract.equipment.through.objects.filter(
            contract_id__in=list(by_contract), equipment__status=EquipmentStatus.REGISTERED
        )
        if equipment_ids is not None:
            links = links.filter(equipment_id__in=any_of(equipment_ids))
        links = links.values_list("contract_id", "equipment_id", "equipment__installed_on")
        for contract_id, pk, installed in links:
            for plan_id in by_contract[contract_id]:
                covered[plan_id].append((pk, installed))
    return covered


def _history(plan_ids: list[int]) -> dict[tuple[int, int], tuple[dt.date, Decimal | None]]:
    """{(plan, machine): (last due date, highest meter threshold)} of the visits already due."""
    rows = (
        DueVisit.objects.filter(plan_id__in=any_of(plan_ids))
        .values("plan_id", "equipment_id")
        .annotate(last=Max("due_on"), threshold=Max("meter_value"))
        .order_by()
        .values_list("plan_id", "equipment_id", "last", "threshold")
    )
    return {(plan_id, equipment_id): (last, threshold) for plan_id, equipment_id, last, threshold in rows}


def _last_visits(machine_ids: set[int]) -> dict[int, dt.date]:
    """{machine: the day its last maintenance or inspection visit was completed}."""
    if not machine_ids:
        return {}
    rows = (
        WorkOrder.objects.filter(
            equipment_id__in=any_of(machine_ids),
            service_type__in=PLAN_SERVICE_TYPES,
            status__in=[WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED],
            completed_at__isnull=False,
        )
        .values("equipment_id")
        .annotate(last=Max("completed_at"))
        .order_by()
        .values_list("equipment_id", "last")
    )
    return {pk: timezone.localtime(last).date() for pk, last in rows}


def _usage(machines_by_meter: dict[str, set[int]], today: dt.date) -> dict[tuple[str, int], Usage]:
    """{(meter, machine): its usage}: counters only go up, so the highest reading is the last and
    the lowest of the window the first."""
    usage = {}
    since = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=USAGE_WINDOW_DAYS), dt.time()))
    until = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time()))
    for meter, ids in machines_by_meter.items():
        rows = (
            MeterReading.objects.filter(
                equipment_id__in=any_of(ids), meter=meter, read_at__gte=since, read_at__lt=until
            )
            .values("equipment_id")
            .annotate(high=Max("value"), last_at=Max("read_at"), low=Min("value"), first_at=Min("read_at"))
            .order_by()
            .values_list("equipment_id", "high", "last_at", "low", "first_at")
        )
        for pk, high, last_at, low, first_at in rows:
            days = (last_at - first_at).total_seconds() / 86400
            rate = float(high - low) / days if days >= 1 and high > low else None
            usage[(meter, pk)] = Usage(high, timezone.localtime(last_at).date(), rate)
    return usage


def _write_due(dues: list[Due], templates: dict[int, int | None], now: dt.datetime) -> list[tuple[Due, int | None]]:
    """Insert the due visits no run wrote before; returns those this call wrote, each with the
    id its order will have. On PostgreSQL the orders' ids are taken first and written on the due
    rows (the key is checked at the commit), so no UPDATE links them after; a row another run
    wrote first is skipped (ON CONFLICT DO NOTHING) and its id left unused."""
    order_ids = reserve_ids(WorkOrder, len(dues))
    rows = [
        {
            "plan_id": due.plan_id,
            "equipment_id": due.equipment_id,
            "due_on": due.due_on,
            "reason": due.reason,
            "meter_value": due.meter_value,
            "job_template_id": templates[due.plan_id],
            "work_order_id": order_ids[index] if order_ids is not None else None,
        }
        for index, due in enumerate(dues)
    ]
    if order_ids is not None:
        written = set(
            insert_rows(
                DueVisit,
                rows,
                on_conflict="(equipment_id, due_on) DO NOTHING",
                returning="work_order_id",
                created_at=now,
            )
        )
        return [(due, order_id) for due, order_id in zip(dues, order_ids, strict=True) if order_id in written]
    existing = set(
        DueVisit.objects.filter(equipment_id__in=[d.equipment_id for d in dues]).values_list("equipment_id", "due_on")
    )
    fresh = [
        (due, DueVisit(**row, created_at=now))
        for due, row in zip(dues, rows, strict=True)
        if (row["equipment_id"], row["due_on"]) not in existing
    ]
    DueVisit.objects.bulk_create([visit for _due, visit in fresh], batch_size=500)
    for due, visit in fresh:
        due.visit_id = visit.pk
    return [(due, None) for due, _visit in fresh]


def _link_orders(pairs: list[tuple[int, int]]) -> None:
    """Point each due visit at its order: (due visit id, order id) pairs, one statement."""
    if not pairs:
        return
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(DueVisit._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS d SET work_order_id = v.o "  # noqa: S608
                "FROM unnest(%s::bigint[], %s::bigint[]) AS v(d, o) WHERE d.id = v.d",
                [int_array([d for d, _o in pairs]), int_array([o for _d, o in pairs])],
            )
        return
    visits = [DueVisit(pk=d, work_order_id=o) for d, o in pairs]
    DueVisit.objects.bulk_update(visits, ["work_order_id"], batch_size=500)


def generate_due_visits(
    *,
    actor: User | None,
    today: dt.date | None = None,
    plan_ids: list[int] | None = None,
    equipment_ids: list[int] | None = None,
    meter_before: dict[tuple[str, int], Decimal] | None = None,
) -> GenerationSummary:
    """Write the visits due within each active plan's lead days and open their orders, in one
    transaction. `actor` None is the worker's periodic run; a person needs MANAGE_MAINTENANCE.
    `today` (the local date) is for the demo's history; `plan_ids` narrows the run (None: all),
    and `equipment_ids` to those machines (a connected machine's meter reaching a threshold);
    `meter_before` {(meter, machine): the reading before its newest} lets a threshold the newest
    reading passed be due although no visit of the plan was due before."""
    if actor is not None:
        require(may_manage_plans(actor))
    today = today or timezone.localdate()
    summary = GenerationSummary()
    with transaction.atomic():
        now = timezone.now()
        plans = _active_plans(today, plan_ids)
        summary.plans = len(plans)
        if not plans:
            return summary
        covered = _covered(plans, equipment_ids)
        history = _history([plan.pk for plan in plans])
        by_calendar_visit = {
            pk for plan in plans if plan.calendar_base == CalendarBase.LAST_VISIT for pk, _i in covered[plan.pk]
        }
        last_visits = _last_visits(by_calendar_visit)
        metered: dict[str, set[int]] = defaultdict(set)
        for plan in plans:
            if plan.interval_hours:
                metered[plan.meter].update(pk for pk, _i in covered[plan.pk])
        usage = _usage(metered, today)
        for key, before in (meter_before or {}).items():
            if key in usage:
                usage[key].before = before
        dues: dict[tuple[int, dt.date], Due] = {}
        machines = set()
        for plan in plans:
            horizon = today + dt.timedelta(days=plan.lead_days)
            for machine in covered[plan.pk]:
                machines.add(machine[0])
                last_due, threshold = history.get((plan.pk, machine[0]), (None, None))
                meter = usage.get((plan.meter, machine[0])) if plan.interval_hours else None
                # Every visit due within the lead days, not only the next: a run that leaves one
                # for later would find it on the second run.
                for _visit in range(MAX_VISITS_PER_RUN):
                    due = due_for(
                        plan,
                        machine,
                        today=today,
                        last_due=last_due,
                        last_threshold=threshold,
                        last_visit=last_visits.get(machine[0]),
                        usage=meter,
                    )
                    if due is None or due.due_on > horizon or (plan.ends_on and due.due_on > plan.ends_on):
                        break
                    # Two plans due on the same day for one machine: one visit (the older plan's).
                    dues.setdefault((due.equipment_id, due.due_on), due)
                    if last_due is not None and due.due_on <= last_due and due.meter_value == threshold:
                        break  # nothing moves on (a usage visit due today and not yet done)
                    last_due, threshold = max(due.due_on, last_due or due.due_on), due.meter_value or threshold
        summary.machines = len(machines)
        ordered = [dues[key] for key in sorted(dues)]  # one lock order for concurrent runs
        plans_by_id = {plan.pk: plan for plan in plans}
        written = _write_due(ordered, {plan.pk: plan.job_template_id for plan in plans}, now)
        summary.due_written = len(written)
        if not written:
            return summary
        equipment = {
            machine.pk: machine
            for machine in instances_of(
                Equipment,
                Equipment.objects.filter(pk__in=any_of({due.equipment_id for due, _order_id in written})).values(
                    "id", "customer_id", "site_id", "status", "warranty_starts_on", "warranty_ends_on"
                ),
            )
        }
        reasons = {value: str(label) for value, label in DueReason.choices}
        described = _("%(plan)s: due on %(date)s (%(reason)s)")
        specs = []
        for due, order_id in written:
            plan = plans_by_id[due.plan_id]
            specs.append(
                ProactiveSpec(
                    equipment=equipment[due.equipment_id],
                    service_type=plan.service_type,
                    priority=plan.priority,
                    description=described
                    % {"plan": plan.name, "date": due.due_on.isoformat(), "reason": reasons[due.reason]},
                    parts=plan.parts,
                    note=plan.name[:200],
                    planned_for=due.due_on,
                    order_id=order_id,
                )
            )
        orders = open_proactive_orders(specs, actor=actor, on=today, at=now)
        if written[0][1] is None:  # elsewhere than PostgreSQL: linked after
            _link_orders([(due.visit_id, order.pk) for (due, _id), order in zip(written, orders, strict=True)])
        by_template: dict[int | None, list[WorkOrder]] = defaultdict(list)
        for (due, _order_id), order in zip(written, orders, strict=True):
            by_template[plans_by_id[due.plan_id].job_template_id].append(order)
        # The plan's template, in place of the one picked when the order was created.
        templates = JobTemplate.objects.in_bulk([pk for pk in by_template if pk is not None])
        for template_id, batch in by_template.items():
            if template_id is not None:
                attach_job_steps(batch, templates[template_id])
        summary.orders_opened = len(orders)
        summary.orders = orders
    return summary


def plan_target_label(plan: MaintenancePlan) -> str:
    if plan.scope == PlanScope.MACHINE:
        return str(plan.equipment)
    if plan.scope == PlanScope.MODEL:
        return str(plan.product_model)
    return str(plan.contract)


# ---------------------------------------------------------------- expiry

EXPIRY_WARNING_DAYS = (30, 7)


def warn_expiring_plans(*, today: dt.date | None = None) -> int:
    """Tell each active plan's owner that the plan (or the contract it comes from) ends within
    30, then 7 days: a producer-addressed outbox message, keyed per plan, end date and threshold,
    so it goes once however often the check runs. The contract's own reminder to its account
    owner stays contracts' (`contracts.services.send_expiry_reminders`); this one is the plan's.
    Returns how many messages were new."""
    today = today or timezone.localdate()
    latest = today + dt.timedelta(days=max(EXPIRY_WARNING_DAYS))
    plans = (
        MaintenancePlan.objects.filter(is_active=True, owner__isnull=False, owner__is_active=True)
        .filter(
            Q(ends_on__gte=today, ends_on__lte=latest)
            | Q(scope=PlanScope.CONTRACT, contract__ends_on__gte=today, contract__ends_on__lte=latest)
        )
        .select_related("contract")
    )
    messages = []
    for plan in plans:
        ends = [d for d in (plan.ends_on, plan.contract.ends_on if plan.contract_id else None) if d]
        end = min(d for d in ends if d >= today)
        days_left = (end - today).days
        days = min((d for d in EXPIRY_WARNING_DAYS if days_left <= d), default=None)
        if days is None:
            continue
        by_contract = plan.contract_id is not None and end == plan.contract.ends_on
        payload = {
            "event": "maintenance_plan.expiring",
            "recipients": [plan.owner_id],
            "context": {
                "plan": plan.name,
                "contract": plan.contract.number if by_contract else "",
                "ends_on": end.isoformat(),
                "days_left": days_left,
            },
            "url": reverse("maintenance:plan_detail", args=[plan.pk]),
        }
        messages.append(("maintenance_plan.expiring", payload, f"plan-exp:{plan.pk}:{end.isoformat()}:{days}"))
    return emit_many(messages)


# ---------------------------------------------------------------- inventory's demand

DEMAND_HORIZON_DAYS = 90


def maintenance_demand(area_ids: list[int] | None, part_ids=None) -> dict[int, Decimal]:
    """inventory's MAINTENANCE demand source: the parts the active plans' visits will use in the
    next 90 days in the areas (None: everywhere), machines covered × visits in the horizon ×
    the plan's quantity."""
    today = timezone.localdate()
    plans = [plan for plan in _active_plans(today) if plan.parts]
    if not plans:
        return {}
    covered = _covered(plans)
    inside = None
    if area_ids is not None:
        sites = sites_in(list(area_ids))
        inside = (
            set(Equipment.objects.filter(site_id__in=any_of(sites)).values_list("pk", flat=True)) if sites else set()
        )
    wanted = None if part_ids is None else set(part_ids)
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for plan in plans:
        machines = [pk for pk, _installed in covered[plan.pk] if inside is None or pk in inside]
        if not machines:
            continue
        per_machine = []
        if plan.interval_months:
            per_machine.append(DEMAND_HORIZON_DAYS / (plan.interval_months * 30.44))
        visits = Decimal(str(round(max(per_machine, default=DEMAND_HORIZON_DAYS / 180) * len(machines), 3)))
        for part_id, quantity in plan.parts:
            if wanted is None or part_id in wanted:
                totals[part_id] += quantity * visits
    return dict(totals)
