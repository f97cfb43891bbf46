"""Orders we open before the customer calls (channel "proactive"), and the one writer of new work
orders.

`write_orders` writes new work orders, one or thousands, with the same statements: the orders,
their numbers, their needed parts, one service-log line each, the created hooks (set-based ones
once with them all), one outbox message each. `create_work_order` (an agent's order for a
customer's request) writes its one order through it; `open_proactive_orders` opens a batch of
maintenance or inspection visits, each with its own request, deciding their entitlement at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat, Greatest, Length, LPad
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can
from fieldservice.assets.models import Equipment
from fieldservice.contracts.services import EntitlementCase, EntitlementDecision, decide_entitlements
from fieldservice.core.db import any_of, insert_rows, instances_of, reserve_ids
from fieldservice.core.errors import field_error, require
from fieldservice.core.outbox import emit_many
from fieldservice.customers.models import Customer, Site
from fieldservice.workorders import hooks
from fieldservice.workorders.choices import Channel, NeededPartSource, Priority, RequestStatus, ServiceType
from fieldservice.workorders.models import NeededPart, ServiceRequest, WorkOrder
from fieldservice.workorders.permissions import may_manage_orders
from fieldservice.workorders.services.log import log_events
from fieldservice.workorders.services.needed_parts import fill_from_fault_category

DESCRIPTION_LIMIT = 5000


@dataclass
class OrderDraft:
    """A work order to write: its fields by attribute name (`request_id`, `customer_id`, …; the
    entitlement's too, see `entitled`), the parts it needs and the note of its log line."""

    values: dict
    parts: Sequence[tuple[int, Decimal]] = ()  # (part id, quantity)
    parts_source: str = NeededPartSource.PLAN
    note: str = ""


def entitled(decision: EntitlementDecision) -> dict:
    """An order's fields of the entitlement decided for it."""
    return {
        "entitlement": decision.entitlement,
        "entitlement_reason": decision.reason,
        "contract_id": decision.contract.pk if decision.contract is not None else None,
        "sla_policy_id": decision.sla_policy.pk if decision.sla_policy is not None else None,
    }


def _numbered(model, prefix: str, ids: list[int]) -> None:
    """Give the rows their numbers (prefix + id, at least 7 digits) in one statement."""
    text = Cast("pk", CharField())
    model.objects.filter(pk__in=any_of(ids)).update(
        number=Concat(Value(prefix), LPad(text, Greatest(Value(7), Length(text)), Value("0")))
    )


def _complete(model, rows: list[dict]) -> list[dict]:
    """Every concrete field named in every row, its default where the row names none: a fixed
    default worked out once for the batch, a callable one (a token, a new document) per row."""
    fixed, called = [], []
    for f in model._meta.concrete_fields:
        if not f.primary_key:
            (called if callable(f.default) else fixed).append((f.attname, f))
    fixed = [(name, f.get_default()) for name, f in fixed]
    for row in rows:
        for name, default in fixed:
            if name not in row:
                row[name] = default
        for name, f in called:
            if name not in row:
                row[name] = f.get_default()
    return rows


def insert_numbered(model, rows: list[dict], prefix: str) -> list[int]:
    """Insert the rows, each numbered prefix + its id (at least 7 digits); their ids in the rows'
    order. On PostgreSQL the ids are taken from the sequence first, so the rows are written with
    their numbers in one statement; elsewhere numbered by an UPDATE after."""
    rows = _complete(model, rows)
    if connection.vendor == "postgresql" and all(row.get("id") for row in rows):
        ids = [row["id"] for row in rows]  # taken by the caller (reserve_ids)
    else:
        ids = reserve_ids(model, len(rows))
    if ids is not None:
        for row, pk in zip(rows, ids, strict=True):
            row["id"], row["number"] = pk, f"{prefix}{pk:07d}"
        insert_rows(model, rows)
        return ids
    objs = [model(**row) for row in rows]
    model.objects.bulk_create(objs, batch_size=500)
    ids = [obj.pk for obj in objs]
    _numbered(model, prefix, ids)
    for row, pk in zip(rows, ids, strict=True):
        row["id"], row["number"] = pk, f"{prefix}{pk:07d}"
    return ids


def write_orders(drafts: list[OrderDraft], *, actor: User | None, at: dt.datetime | None = None) -> list[WorkOrder]:
    """Write new work orders (their requests exist) with set-based statements, inside the
    caller's transaction, and return them. The one writer of new orders: checks are the caller's."""
    if not drafts:
        return []
    at = at or timezone.now()
    rows = [draft.values for draft in drafts]
    actor_id = getattr(actor, "pk", None)
    for row in rows:
        row.update(created_at=at, updated_at=at, created_by_id=actor_id)
    ids = insert_numbered(WorkOrder, rows, "WO")
    orders = instances_of(WorkOrder, rows)
    for order in orders:
        if order.fault_category_id is not None:
            fill_from_fault_category(order)
    parts = [
        {
            "work_order_id": pk,
            "part_id": part_id,
            "quantity": quantity,
            "source": draft.parts_source,
            "added_by_id": actor_id,
        }
        for draft, pk in zip(drafts, ids, strict=True)
        for part_id, quantity in draft.parts
    ]
    insert_rows(NeededPart, parts, added_at=at)
    log_events(
        [
            {
                "work_order_id": order.pk,
                "action": "created",
                "to_status": order.status,
                "actor": actor,
                "note": draft.note,
            }
            for draft, order in zip(drafts, orders, strict=True)
        ],
        at=at,
    )
    hooks.created_many(orders)
    emit_many([("work_order.created", {"work_order": pk, "actor": actor_id}, None) for pk in ids])
    return orders


@dataclass(frozen=True)
class ProactiveSpec:
    """One visit we open on our own initiative: a machine (its customer and site loaded), what to
    do, the parts it needs ((part id, quantity) pairs), and the note of its log line."""

    equipment: Equipment
    service_type: str = ServiceType.MAINTENANCE
    priority: str = Priority.NORMAL
    description: str = ""
    parts: Sequence[tuple[int, Decimal]] = field(default=())
    note: str = ""
    # The day the visit is due (WorkOrder.planned_for): measured against it, no SLA clocks.
    planned_for: dt.date | None = None
    # The order's id, taken beforehand with core.db.reserve_ids (PostgreSQL) by a caller whose
    # own rows point at the order as they are written; None: given here.
    order_id: int | None = None
    # Who opened it: PROACTIVE (a plan, an inspection, a campaign) or IOT (a machine's alarm or
    # a threshold rule, by the system).
    channel: str = Channel.PROACTIVE
    # The order's fault category (an alarm code's): its usual parts become the needed parts.
    fault_category_id: int | None = None


# What a proactive visit may be (a consultation is not a visit).
VISIT_TYPES = frozenset(ServiceType.values) - {ServiceType.CONSULTATION}
PRIORITIES = frozenset(Priority.values)
PROACTIVE_CHANNELS = frozenset({Channel.PROACTIVE, Channel.IOT})


def _check(index: int, spec: ProactiveSpec) -> str:
    prefix = f"specs[{index}]."
    if spec.service_type not in VISIT_TYPES:
        raise field_error(prefix + "service_type", _("Unknown service type."), "invalid_choice")
    if spec.priority not in PRIORITIES:
        raise field_error(prefix + "priority", _("Unknown priority."), "invalid_choice")
    if spec.channel not in PROACTIVE_CHANNELS:
        raise field_error(prefix + "channel", _("Unknown channel."), "invalid_choice")
    if not spec.equipment.is_registered:
        raise field_error(
            prefix + "equipment", _("Only registered equipment can be chosen for a service request."), "not_registered"
        )
    description = (spec.description or "").strip()
    if not description:
        raise field_error(prefix + "description", _("Describe the problem."), "required")
    if len(description) > DESCRIPTION_LIMIT:
        raise field_error(
            prefix + "description", _("At most %(n)d characters.") % {"n": DESCRIPTION_LIMIT}, "max_length"
        )
    return description


@transaction.atomic
def open_proactive_orders(
    specs: list[ProactiveSpec], *, actor: User | None, on: dt.date | None = None, at: dt.datetime | None = None
) -> list[WorkOrder]:
    """Open one request (channel "proactive", or the spec's, converted) and one work order per spec, set-based:
    the entitlement of every visit decided at once (as of `on`, today), the orders written by
    `write_orders`. Returns the orders in the order of `specs`. All or nothing: one bad spec
    refuses the batch, naming it. `actor` None: the worker's periodic run (a maintenance plan's
    generation); a person must be one who may manage orders or who runs proactive service (the
    director launching a recall opens its orders without being a dispatcher)."""
    if actor is not None:
        require(
            may_manage_orders(actor)
            or can(actor, Capability.MANAGE_MAINTENANCE)
            or can(actor, Capability.MANAGE_CAMPAIGNS)
        )
    if not specs:
        return []
    descriptions = [_check(index, spec) for index, spec in enumerate(specs)]
    at = at or timezone.now()
    customers = Customer.objects.in_bulk({spec.equipment.customer_id for spec in specs})
    decisions = decide_entitlements(
        [EntitlementCase(customers[spec.equipment.customer_id], spec.equipment, spec.priority) for spec in specs],
        on=on,
    )
    # A machine without a site is visited at its customer's first active site.
    homeless = {spec.equipment.customer_id for spec in specs if spec.equipment.site_id is None}
    first_site: dict[int, int] = {}
    if homeless:
        for site_id, customer_id in (
            Site.objects.filter(customer_id__in=any_of(homeless), is_active=True)
            .order_by("-pk")
            .values_list("pk", "customer_id")
        ):
            first_site[customer_id] = site_id
    actor_id = getattr(actor, "pk", None)
    request_ids = insert_numbered(
        ServiceRequest,
        [
            {
                "channel": spec.channel,
                "status": RequestStatus.CONVERTED,
                "customer_id": spec.equipment.customer_id,
                "equipment_id": spec.equipment.pk,
                "service_type": spec.service_type,
                "priority": spec.priority,
                "fault_category_id": spec.fault_category_id,
                "description": description,
                "created_by_id": actor_id,
                "confirmed_by_id": actor_id,
                "confirmed_at": at,
                "created_at": at,
            }
            for spec, description in zip(specs, descriptions, strict=True)
        ],
        "SR",
    )
    drafts = []
    for spec, request_id, decision, description in zip(specs, request_ids, decisions, descriptions, strict=True):
        equipment = spec.equipment
        values = {
            "request_id": request_id,
            "customer_id": equipment.customer_id,
            "site_id": equipment.site_id or first_site.get(equipment.customer_id),
            "equipment_id": equipment.pk,
            "service_type": spec.service_type,
            "priority": spec.priority,
            "fault_category_id": spec.fault_category_id,
            "description": description,
            "planned_for": spec.planned_for,
            **entitled(decision),
        }
        if spec.order_id is not None:
            values["id"] = spec.order_id
        drafts.append(OrderDraft(values, parts=spec.parts, note=spec.note or f"SR{request_id:07d}"))
    return write_orders(drafts, actor=actor, at=at)
