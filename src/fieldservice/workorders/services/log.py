"""The service log writer. Every move and every recorded fact on a work order goes through here."""

from decimal import Decimal
from typing import Any

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
