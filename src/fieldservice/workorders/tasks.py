"""Background tasks of the work orders app."""

import logging
from pathlib import Path

from django.conf import settings
from django_tasks import task

from fieldservice.workorders.mail import MailSourceError
from fieldservice.workorders.mail import fetch_mail as read_mailbox

logger = logging.getLogger(__name__)


@task()
def fetch_mail() -> dict:
    """The periodic e-mail intake ("workorders.fetch_mail"). Filing is keyed by Message-ID, so a
    run that overlaps another files nothing twice."""
    if settings.FSM_MAIL_SOURCE == "maildir" and not Path(settings.FSM_MAILDIR).is_dir():
        # No local mail delivery set up on this machine: nothing to read, nothing to report.
        return {"skipped": f"no Maildir at {settings.FSM_MAILDIR}"}
    try:
        counts = read_mailbox()
    except MailSourceError as error:
        # An unreachable mailbox is logged and tried again at the next run.
        logger.warning("The service mailbox could not be read: %s", error)
        return {"error": str(error)}
    return {"created": counts.created, "replies": counts.replies, "skipped": counts.skipped, "failed": counts.failed}
