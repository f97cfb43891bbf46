"""Background tasks of the work orders app."""

import logging

from django_tasks import task

from fieldservice.workorders.mail import MailSourceError
from fieldservice.workorders.mail import fetch_mail as read_mailbox

logger = logging.getLogger(__name__)


@task()
def fetch_mail() -> dict:
    """The periodic e-mail intake ("workorders.fetch_mail"). Filing is keyed by Message-ID, so a
    run that overlaps another files nothing twice."""
    try:
        counts = read_mailbox()
    except MailSourceError as error:
        # An unreachable mailbox is logged and tried again at the next run.
        logger.warning("The service mailbox could not be read: %s", error)
        return {"error": str(error)}
    return {"created": counts.created, "replies": counts.replies, "skipped": counts.skipped, "failed": counts.failed}
