"""Background tasks of the field app."""

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from fieldservice.field.services import send_service_report

logger = logging.getLogger(__name__)

REPORT_ATTEMPTS = 5


@task()
def send_report(order_pk: int, language: str | None = None, attempt: int = 1) -> bool:
    try:
        return send_service_report(order_pk, language=language)
    except Exception:
        logger.exception("Could not send the service report of work order %s (attempt %s)", order_pk, attempt)
        if attempt >= REPORT_ATTEMPTS or not send_report.get_backend().supports_defer:
            raise
        send_report.using(run_after=timezone.now() + timedelta(minutes=2**attempt)).enqueue(
            order_pk, language, attempt + 1
        )
        return False
