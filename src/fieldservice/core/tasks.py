"""Background tasks of the core: the outbox drain and the sweep that catches what fell through."""

from django_tasks import task

from fieldservice.core import outbox


@task()
def drain_outbox() -> int:
    return outbox.drain()


@task()
def sweep() -> dict:
    """Re-drive work that a lost enqueue or a killed worker left behind: due outbox messages,
    and deliveries whose worker died (each app's `requeue_stalled`)."""
    from fieldservice.notifications.services import requeue_stalled as requeue_notifications
    from fieldservice.webhooks.services import requeue_stalled as requeue_webhooks

    return {
        "outbox": outbox.drain(),
        "notifications": requeue_notifications(),
        "webhooks": requeue_webhooks(),
    }
