"""Background tasks of the grab pool."""

from django_tasks import task

from fieldservice.pool import services


@task()
def expire_offers() -> dict:
    """The periodic check ("pool.expire"): unclaimed offers go back to the dispatchers."""
    return services.expire_offers()
