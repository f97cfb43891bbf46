"""Background tasks of customer care."""

from django_tasks import task

from fieldservice.maintenance.services import care


@task()
def run_due_care_plans() -> dict:
    """The periodic check ("maintenance.care_plans"): active plans whose start date has come run."""
    return care.run_due_care_plans()
