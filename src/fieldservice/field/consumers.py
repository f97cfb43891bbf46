"""Outbox consumer of the field app: the service report e-mail after a completed visit."""

from django.db import transaction

from fieldservice.core.models import OutboxMessage


def consume(message: OutboxMessage) -> None:
    if message.topic != "work_order.report_ready":
        return
    from fieldservice.field.tasks import send_report

    order_pk, language = message.payload["work_order"], message.payload.get("language")
    transaction.on_commit(lambda: send_report.enqueue(order_pk, language))
