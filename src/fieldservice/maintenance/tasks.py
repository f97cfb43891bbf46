"""Background tasks of proactive service."""

from django_tasks import task

from fieldservice.maintenance.services import plans


@task()
def generate_maintenance() -> dict:
    """The periodic check ("maintenance.generate"): the visits due within each plan's lead days,
    with their orders. Computed from the database's state: a second run opens nothing."""
    summary = plans.generate_due_visits(actor=None)
    return {"plans": summary.plans, "due_written": summary.due_written, "orders_opened": summary.orders_opened}


@task()
def warn_expiring_plans() -> dict:
    """The periodic check ("maintenance.plan_expiry"): plan owners hear of plans ending soon."""
    return {"warned": plans.warn_expiring_plans()}
