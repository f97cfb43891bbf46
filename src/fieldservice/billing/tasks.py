"""Background tasks of billing."""

from django.utils import timezone
from django_tasks import task

from fieldservice.billing.services import quotations, settlement


@task()
def expire_quotations() -> dict:
    """The periodic check ("billing.expire_quotations"): sent quotations past their date expire."""
    return quotations.expire_quotations()


@task()
def generate_previous_month() -> dict:
    """The periodic check ("billing.statements"): the previous month's statements. From the 1st on,
    each run places what is not placed yet (nothing, once done), so a worker that was down on the
    1st catches up and a second run adds nothing."""
    start, end = settlement.previous_month(timezone.localdate())
    summary = settlement.generate_statements(actor=None, period_start=start, period_end=end)
    return {
        "period": f"{start.isoformat()}..{end.isoformat()}",
        "statements_created": summary.statements_created,
        "orders_placed": summary.orders_placed,
        "adjustments_placed": summary.adjustments_placed,
    }
