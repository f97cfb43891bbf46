"""Background tasks of the webhooks: sending one delivery."""

from django_tasks import task


@task()
def deliver(delivery_id: int) -> str:
    """Send the delivery if it is still pending and due (a repeat of the task does nothing)."""
    from fieldservice.webhooks.services import attempt_delivery

    return attempt_delivery(delivery_id)
