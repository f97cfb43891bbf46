"""Background tasks of billing."""

from django_tasks import task

from fieldservice.billing.services import quotations


@task()
def expire_quotations() -> dict:
    """The periodic check ("billing.expire_quotations"): sent quotations past their date expire."""
    return quotations.expire_quotations()
