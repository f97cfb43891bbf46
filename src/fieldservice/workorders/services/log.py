"""The service log writer. Every move and every recorded fact on a work order goes through here."""

from decimal import Decimal
from typing import Any

from fieldservice.core.db import insert_rows
from fieldservice.workorders.models import WorkOrder, WorkOrderEvent


def log_event(
    order: WorkOrder,
    *,
    actor,
    action: str,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    payload: dict[str, Any] | None = None,
) -> WorkOrderEvent:
    return WorkOrderEvent.objects.create(
        work_order=order,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "pk", None) else None,
        note=note,
        latitude=latitude,
        longitude=longitude,
        payload=payload or {},
    )


def log_events(rows: list[dict[str, Any]], *, at) -> None:
    """Many lines at once, in one statement for a rule pass's thousands: each row has
    `work_order_id` and `action`, and any of the other fields of `log_event` (`actor` a user)."""
    insert_rows(
        WorkOrderEvent,
        [
            {
                "work_order_id": row["work_order_id"],
                "action": row["action"],
                "from_status": row.get("from_status", ""),
                "to_status": row.get("to_status", ""),
                "actor_id": getattr(row.get("actor"), "pk", None),
                "note": row.get("note", ""),
                "latitude": row.get("latitude"),
                "longitude": row.get("longitude"),
                "payload": row.get("payload") or {},
            }
            for row in rows
        ],
        at=at,
    )
