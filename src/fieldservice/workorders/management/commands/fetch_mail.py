"""`fsm fetch_mail`: read the service mailbox once and file the new mails (see workorders.mail)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fieldservice.workorders.mail import MailSourceError, fetch_mail


class Command(BaseCommand):
    help = "Read the service mailbox (FSM_MAIL_SOURCE) once: new mails become requests, replies join theirs."

    def handle(self, *args, **options):
        where = settings.FSM_MAILDIR if settings.FSM_MAIL_SOURCE == "maildir" else settings.FSM_IMAP_HOST
        try:
            counts = fetch_mail()
        except MailSourceError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{settings.FSM_MAIL_SOURCE} {where}: {counts.created} new requests, {counts.replies} replies added, "
            f"{counts.skipped} skipped, {counts.failed} failed"
        )
        if counts.failed:
            # A scheduler sees the run did not finish its work; the failed mails stay for the next run.
            raise CommandError(f"{counts.failed} mails could not be filed; see the log")
