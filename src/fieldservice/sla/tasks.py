"""Background tasks of the SLA engine."""

from django_tasks import task

from fieldservice.sla import services


@task()
def check_sla() -> dict:
    """The periodic check ("sla.check"): escalations and breaches of every due clock."""
    return services.check_clocks()
