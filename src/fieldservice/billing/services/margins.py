"""Keep `OrderMargin` rows: revenue, costs and margin per order.

Every service that changes what an order is worth or costs (fee lines, settlement lines) calls
`refresh(order_ids)` in its transaction; the rows are recomputed from the lines, set-based, so a
statement run over 100,000 orders refreshes them in a few statements."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from fieldservice.accounts.choices import OrganisationKind
from fieldservice.accounts.models import Organisation, User
from fieldservice.billing.choices import FeeKind, Payer
from fieldservice.billing.models import FeeLine, OrderMargin, StatementLine
from fieldservice.core.db import int_array
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
SQL_CHUNK = 100_000


def booked_on(closed_at, completed_at, created_at) -> dt.date:
    return timezone.localdate(closed_at or completed_at or created_at)


def refresh(order_ids: Iterable[int]) -> None:
    ids = sorted(set(order_ids))
    if connection.vendor == "postgresql":
        # The same figures added up by the database, one statement per chunk: a month's
        # statements refresh 100,000 orders, which the Python path takes ten times as long for.
        for start in range(0, len(ids), SQL_CHUNK):
            _refresh_sql(ids[start : start + SQL_CHUNK])
        return
    for start in range(0, len(ids), CHUNK):
        _save(compute(ids[start : start + CHUNK]))


def _refresh_sql(ids: list[int]) -> None:
    quote = connection.ops.quote_name
    table = {m.__name__: quote(m._meta.db_table) for m in (FeeLine, StatementLine, OrderMargin, WorkOrder, Assignment)}
    costs = {field: [kind for kind, name in COST_FIELD.items() if name == field] for field in set(COST_FIELD.values())}
    fee_sums = ", ".join(
        f"SUM(cost) FILTER (WHERE kind IN ({', '.join('%s' for _k in kinds)})) AS {field}"
        for field, kinds in sorted(costs.items())
    )
    fee_params = [str(kind) for _field, kinds in sorted(costs.items()) for kind in kinds]
    cost_fields = [name for name in FIGURES if name != "revenue"]
    updated = ["customer_id", "contract_id", "engineer_id", "provider_id", "currency", "booked_on", *FIGURES]
    updated += ["margin", "updated_at"]
    statuses = ", ".join("%s" for _status in ACTIVE_ASSIGNMENT_STATUSES)
    sql = f"""
        INSERT INTO {table["OrderMargin"]} (work_order_id, {", ".join(updated)})
        SELECT o.id, o.customer_id, o.contract_id, lead.engineer_id,
               COALESCE(lead.provider_id, CASE WHEN org.kind = %s THEN u.organisation_id END),
               COALESCE(f.currency, %s),
               (COALESCE(o.closed_at, o.completed_at, o.created_at) AT TIME ZONE %s)::date,
               COALESCE(f.revenue, 0), {", ".join(f"COALESCE({name}, 0)" for name in cost_fields)},
               COALESCE(f.revenue, 0) - ({" + ".join(f"COALESCE({name}, 0)" for name in cost_fields)}),
               %s
        FROM unnest(%s::bigint[]) AS ids(id)
        JOIN {table["WorkOrder"]} o ON o.id = ids.id
        LEFT JOIN (
            SELECT work_order_id, SUM(amount) FILTER (WHERE payer = %s) AS revenue, {fee_sums},
                   MIN(currency) AS currency
            FROM {table["FeeLine"]}
            WHERE work_order_id = ANY(%s::bigint[]) AND NOT is_void
            GROUP BY work_order_id
        ) f ON f.work_order_id = o.id
        LEFT JOIN (
            SELECT work_order_id, SUM(amount) AS settlement_cost
            FROM {table["StatementLine"]}
            WHERE work_order_id = ANY(%s::bigint[])
            GROUP BY work_order_id
        ) s ON s.work_order_id = o.id
        LEFT JOIN {table["Assignment"]} lead
            ON lead.work_order_id = o.id AND lead.role = %s AND lead.status IN ({statuses})
        LEFT JOIN {quote(User._meta.db_table)} u ON u.id = lead.engineer_id
        LEFT JOIN {quote(Organisation._meta.db_table)} org ON org.id = u.organisation_id
        ON CONFLICT (work_order_id) DO UPDATE SET {", ".join(f"{name} = EXCLUDED.{name}" for name in updated)}
    """
    array = int_array(ids)
    params = [
        OrganisationKind.PROVIDER,
        DEFAULT_CURRENCY,
        timezone.get_current_timezone_name(),
        timezone.now(),
        array,
        Payer.CUSTOMER,
        *fee_params,
        array,
        array,
        AssignmentRole.LEAD,
        *sorted(ACTIVE_ASSIGNMENT_STATUSES),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


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
