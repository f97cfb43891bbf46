"""Outbox consumer: one delivery per active subscription for each event it subscribed to.

Runs inside the drain's transaction and only writes rows; the pump of each subscription,
asked for after the commit, does the sending. The body is built here once and stored, so every retry and
redelivery sends exactly the same bytes. Its shape is documented in docs/WEBHOOKS.md.
"""

from __future__ import annotations

from django.utils import timezone

from fieldservice.core.outbox import batch_memo
from fieldservice.feedback.models import Evaluation
from fieldservice.webhooks.choices import DeliveryStatus, WebhookEvent
from fieldservice.webhooks.models import WebhookDelivery, WebhookSubscription
from fieldservice.webhooks.services import request_send_after_commit
from fieldservice.workorders.models import WorkOrder

# Outbox topic -> webhook event.
TOPIC_EVENTS = {
    "work_order.created": WebhookEvent.WORK_ORDER_CREATED,
    "work_order.transitioned": WebhookEvent.WORK_ORDER_STATUS_CHANGED,
    "sla.breached": WebhookEvent.SLA_BREACHED,
    "evaluation.received": WebhookEvent.EVALUATION_RECEIVED,
}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def work_order_data(order) -> dict:
    """The compact work order every work order event carries (its state when the event is
    processed, normally a moment after it happened)."""
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "priority": order.priority,
        "service_type": order.service_type,
        "customer": {"code": order.customer.code, "name": order.customer.name},
        "created_at": _iso(order.created_at),
    }


def _order(order_id):
    return WorkOrder.objects.select_related("customer").filter(pk=order_id).first()


def build_data(event: str, payload: dict) -> dict | None:
    """The `data` of the body, or None when what the event is about no longer exists."""
    if event == WebhookEvent.SLA_BREACHED:
        return dict(payload)
    order = _order(payload.get("work_order"))
    if order is None:
        return None
    data = {"work_order": work_order_data(order)}
    if event == WebhookEvent.WORK_ORDER_STATUS_CHANGED:
        data.update({"from": payload.get("from"), "to": payload.get("to"), "verb": payload.get("verb")})
    elif event == WebhookEvent.EVALUATION_RECEIVED:
        evaluation = Evaluation.objects.filter(pk=payload.get("evaluation")).first()
        if evaluation is None:
            return None
        data["evaluation"] = {
            "id": evaluation.pk,
            "overall": evaluation.overall,
            "timeliness": evaluation.timeliness,
            "attitude": evaluation.attitude,
            "quality": evaluation.quality,
            "comment": evaluation.comment,
            "submitted_at": _iso(evaluation.submitted_at),
        }
    return data


def consume(message) -> None:
    event = TOPIC_EVENTS.get(message.topic)
    if event is None:
        return
    # A handful of rows; membership is checked here because SQLite cannot query inside a JSON list.
    active = batch_memo("webhook_subscriptions", lambda: list(WebhookSubscription.objects.filter(active=True)))
    subscriptions = [s for s in active if event in s.events]
    if not subscriptions:
        return
    # A message handed over again (another consumer failed) makes no second delivery.
    done = set(
        WebhookDelivery.objects.filter(message_id=message.pk, subscription__in=subscriptions).values_list(
            "subscription_id", flat=True
        )
    )
    subscriptions = [s for s in subscriptions if s.pk not in done]
    if not subscriptions:
        return
    data = build_data(event, message.payload or {})
    if data is None:
        return
    body = {"event": str(event), "occurred_at": _iso(message.created_at), "data": data}
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                subscription=subscription,
                event=event,
                message_id=message.pk,
                payload=body,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                created_at=now,
            )
            for subscription in subscriptions
        ],
        ignore_conflicts=True,
    )
    request_send_after_commit(s.pk for s in subscriptions)
