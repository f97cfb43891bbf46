"""Keep `OrderMargin` rows: revenue, costs and margin per order.

Every service that changes what an order is worth or costs (fee lines, settlement lines) calls
`refresh(order_ids)` in its transaction; the rows are recomputed from the lines, set-based, so a
statement run over 100,000 orders refreshes them in a few statements."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from fieldservice.billing.choices import FeeKind, Payer
from fieldservice.billing.models import FeeLine, OrderMargin, StatementLine
from fieldservice.core.money import DEFAULT_CURRENCY
from fieldservice.dispatch.choices import ACTIVE_ASSIGNMENT_STATUSES, AssignmentRole
from fieldservice.dispatch.models import Assignment
from fieldservice.workorders.models import WorkOrder

ZERO = Decimal("0")
COST_FIELD = {
    FeeKind.PART: "parts_cost",
    FeeKind.LABOUR: "labour_cost",
    FeeKind.TRAVEL: "travel_cost",
    FeeKind.SERVICE: "other_cost",
    FeeKind.OTHER: "other_cost",
}
FIGURES = ["revenue", "parts_cost", "labour_cost", "travel_cost", "other_cost", "settlement_cost"]
CHUNK = 5000


def booked_on(closed_at, completed_at, created_at) -> dt.date:
    return timezone.localdate(closed_at or completed_at or created_at)


def refresh(order_ids: Iterable[int]) -> None:
    ids = sorted(set(order_ids))
    for start in range(0, len(ids), CHUNK):
        _save(compute(ids[start : start + CHUNK]))


def after_moves(moves) -> None:
    """A `workorders.hooks.on_moved` hook: a move can change the day an order counts on (closing
    it) and its lead (a cancelled order's assignments end), so the rows of moved orders that have
    one are refreshed in the move's transaction. Orders without a row get none: a row starts with
    the order's first priced line or settlement."""
    ids = sorted({move.order_id for move in moves})
    for start in range(0, len(ids), CHUNK):
        kept = OrderMargin.objects.filter(work_order_id__in=ids[start : start + CHUNK])
        refresh(kept.values_list("work_order_id", flat=True))


def compute(ids: list[int]) -> list[OrderMargin]:
    """The rows of these orders as their lines make them now, unsaved (`refresh` saves them; the
    order page shows one before any line was priced)."""
    figures: dict[int, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(FIGURES, ZERO))
    lines = (
        FeeLine.objects.filter(work_order_id__in=ids, is_void=False)
        .values("work_order_id", "kind", "payer")
        .annotate(amount=Sum("amount"), cost=Sum("cost"))
    )
    currency: dict[int, str] = {}
    for row in lines:
        order = figures[row["work_order_id"]]
        if row["payer"] == Payer.CUSTOMER:
            order["revenue"] += row["amount"] or ZERO
        order[COST_FIELD[row["kind"]]] += row["cost"] or ZERO
    for order_id, code in (
        FeeLine.objects.filter(work_order_id__in=ids, is_void=False)
        .values_list("work_order_id", "currency")
        .order_by("work_order_id", "currency")
        .distinct()
    ):
        currency.setdefault(order_id, code)
    settled = StatementLine.objects.filter(work_order_id__in=ids).values("work_order_id").annotate(amount=Sum("amount"))
    for row in settled:
        figures[row["work_order_id"]]["settlement_cost"] += row["amount"] or ZERO
    leads = {
        a["work_order_id"]: a
        for a in Assignment.objects.filter(
            work_order_id__in=ids, role=AssignmentRole.LEAD, status__in=ACTIVE_ASSIGNMENT_STATUSES
        ).values(
            "work_order_id", "engineer_id", "engineer__organisation_id", "engineer__organisation__kind", "provider_id"
        )
    }
    now = timezone.now()
    rows = []
    for order in WorkOrder.objects.filter(pk__in=ids).values(
        "pk", "customer_id", "contract_id", "closed_at", "completed_at", "created_at"
    ):
        values = figures[order["pk"]]
        lead = leads.get(order["pk"]) or {}
        provider_id = lead.get("provider_id")
        if provider_id is None and lead.get("engineer__organisation__kind") == "provider":
            provider_id = lead.get("engineer__organisation_id")
        cost = sum(values[name] for name in FIGURES if name != "revenue")
        rows.append(
            OrderMargin(
                work_order_id=order["pk"],
                customer_id=order["customer_id"],
                contract_id=order["contract_id"],
                engineer_id=lead.get("engineer_id"),
                provider_id=provider_id,
                currency=currency.get(order["pk"], DEFAULT_CURRENCY),
                booked_on=booked_on(order["closed_at"], order["completed_at"], order["created_at"]),
                margin=values["revenue"] - cost,
                updated_at=now,
                **values,
            )
        )
    return rows


def _save(rows: list[OrderMargin]) -> None:
    OrderMargin.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["work_order"],
        update_fields=[
            "customer",
            "contract",
            "engineer",
            "provider",
            "currency",
            "booked_on",
            *FIGURES,
            "margin",
            "updated_at",
        ],
        batch_size=2000,
    )
