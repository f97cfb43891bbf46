"""Background tasks of the core: the outbox drain and the destination pumps."""

from django_tasks import task

from fieldservice.core import destinations, outbox


def prioritised(task, priority: int):
    """`task` with `priority` where the backend orders by it (the database backend). RQ has no
    priorities and refuses a task that sets one; its workers take the queues in order instead."""
    if priority and task.get_backend().supports_priority:
        return task.using(priority=priority)
    return task


@task()
def drain_outbox() -> int:
    outbox.drain_started()
    return outbox.drain()


@task()
def pump_destination(key: str) -> dict:
    """Send the due deliveries of one destination (core.destinations); enqueued in the queue
    and with the priority its kind asks for."""
    return destinations.pump(key)
