"""Outbox consumer: run the dispatch rules when orders start waiting for a dispatcher (they
were created, or their engineer rejected them, or a dispatcher revoked them): one rule pass per
drained batch of messages, inside the drain's transaction. A message seen twice, or an order
that a dispatcher has meanwhile given out, leaves nothing to do: the pass only touches orders
still waiting with no active lead and no open pool offer.
"""

from fieldservice.workorders.choices import TO_DISPATCH_STATUSES, Transition

BACK_TO_DISPATCH = {Transition.REJECT, Transition.REVOKE}


def consume_batch(messages) -> None:
    """One rule pass over the orders a drained batch of messages says are waiting."""
    order_ids = [order_id for order_id in map(_waiting_order, messages) if order_id is not None]
    if order_ids:
        from fieldservice.dispatch.rules.autodispatch import auto_dispatch_many

        auto_dispatch_many(order_ids)


def _waiting_order(message) -> int | None:
    payload = message.payload if isinstance(message.payload, dict) else {}
    if message.topic == "work_order.transitioned":
        if payload.get("verb") not in BACK_TO_DISPATCH or payload.get("to") not in TO_DISPATCH_STATUSES:
            return None
    elif message.topic != "work_order.created":
        return None
    order_id = payload.get("work_order")
    return order_id if isinstance(order_id, int) and not isinstance(order_id, bool) else None
