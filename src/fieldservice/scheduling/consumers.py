"""Outbox consumer of the scheduling app: keep each order's planned visit in step with the order
(done when it is completed, cancelled with it, and following the lead engineer)."""

from fieldservice.core.models import OutboxMessage


def consume(message: OutboxMessage) -> None:
    if message.topic != "work_order.transitioned":
        return
    from fieldservice.scheduling.services import sync_visit_with_order

    sync_visit_with_order(message.payload["work_order"])
