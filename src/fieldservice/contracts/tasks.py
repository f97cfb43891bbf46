"""Periodic work of the contracts app (registered in core.periodic as "contracts.expiry_reminders")."""

from django_tasks import task

from fieldservice.contracts import services


@task()
def send_expiry_reminders() -> dict:
    """Expire contracts whose end has passed and send the reminders that are due."""
    return services.send_expiry_reminders()
