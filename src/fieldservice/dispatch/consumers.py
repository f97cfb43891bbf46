"""Outbox consumer: run the dispatch rules when an order starts waiting for a dispatcher (it
was created, or its engineer rejected it, or a dispatcher revoked it).

Runs inside the drain's transaction for the message. A message seen twice, or an order that a
dispatcher has meanwhile given out, leaves nothing to do: `auto_dispatch` only touches orders
still waiting with no active lead and no open pool offer.
"""

from fieldservice.workorders.choices import TO_DISPATCH_STATUSES, Transition
from fieldservice.workorders.models import WorkOrder

BACK_TO_DISPATCH = {Transition.REJECT, Transition.REVOKE}


def consume(message) -> None:
    payload = message.payload if isinstance(message.payload, dict) else {}
    if message.topic == "work_order.created":
        pass
    elif message.topic == "work_order.transitioned":
        if payload.get("verb") not in BACK_TO_DISPATCH or payload.get("to") not in TO_DISPATCH_STATUSES:
            return
    else:
        return
    order = WorkOrder.objects.filter(pk=payload.get("work_order")).first()
    if order is None or order.status not in TO_DISPATCH_STATUSES:
        return
    from fieldservice.dispatch.autodispatch import auto_dispatch

    auto_dispatch(order)
