"""Background tasks of the core: the outbox drain and the destination pumps."""

from django_tasks import task

from fieldservice.core import destinations, outbox


@task()
def drain_outbox() -> int:
    return outbox.drain()


@task()
def pump_destination(key: str) -> dict:
    """Send the due deliveries of one destination (core.destinations); enqueued in the queue
    and with the priority its kind asks for."""
    return destinations.pump(key)
