"""Trying one notification delivery, for the pump of its channel (core.destinations).

An attempt claims the delivery with one compare-and-set (pending and due → sending, attempts
+ 1, a lease), so two pumps given the same delivery never both send. Every later write checks
it still holds that claim (status "sending" and its attempt number): an attempt that outlived
its lease, whose delivery went to another pump, changes nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from fieldservice.core import destinations
from fieldservice.core.destinations import Attempt
from fieldservice.core.http import DeliveryError
from fieldservice.notifications import channels
from fieldservice.notifications.choices import Channel, DeliveryStatus
from fieldservice.notifications.models import Delivery, Notification
from fieldservice.notifications.services import language_of, max_attempts

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failure: 1, 2, 4, 8 … minutes, at most an hour."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _claim(delivery_id: int) -> Delivery | None:
    now = timezone.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now).update(
        status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, lease_until=now + destinations.lease()
    )
    if claimed != 1:
        return None  # someone else has it, it is done, or it is not due yet
    return Delivery.objects.select_related("notification__recipient").get(pk=delivery_id)


def _held(delivery: Delivery):
    return Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=delivery.attempts)


def run_delivery(delivery_id: int) -> Attempt:
    """Claim one delivery by its id and try it (the pumps claim in batches: `send_claimed`)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return Attempt("skipped")
    return send_claimed(delivery)


def send_claimed(delivery: Delivery) -> Attempt:
    """Try a delivery this pump holds ("sending", its attempt counted)."""
    if delivery.channel == Channel.IN_APP:
        return _deliver_in_app(delivery)
    notification = delivery.notification
    if notification.recipient is not None and not notification.recipient.is_active:
        _held(delivery).update(
            status=DeliveryStatus.FAILED, lease_until=None, last_error=_("The recipient's account is deactivated.")
        )
        return Attempt("failed")
    try:
        _send(delivery, notification)
    except channels.RecipientError as error:
        # Nothing the receiver did: the destination stays in good standing.
        return Attempt(_failed(delivery, str(error)), error=str(error))
    except DeliveryError as error:
        return Attempt(_failed(delivery, str(error)), destination_failed=True, error=str(error))
    except Exception as error:  # a bug must not leave it "sending" until the lease runs out
        logger.exception("Notification delivery %s failed unexpectedly", delivery.pk)
        return Attempt(_failed(delivery, f"{type(error).__name__}: {error}"))
    changed = _held(delivery).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), lease_until=None, last_error=""
    )
    return Attempt("sent" if changed else "skipped")


def _deliver_in_app(delivery: Delivery) -> Attempt:
    now = timezone.now()
    with transaction.atomic():
        changed = _held(delivery).update(status=DeliveryStatus.SENT, sent_at=now, lease_until=None, last_error="")
        if changed == 1:
            Notification.objects.filter(pk=delivery.notification_id, delivered_at__isnull=True).update(delivered_at=now)
    return Attempt("sent" if changed else "skipped")


def _send(delivery: Delivery, notification: Notification) -> None:
    if delivery.channel == Channel.EMAIL:
        language = language_of(notification.recipient) if notification.recipient else settings.LANGUAGE_CODE
        channels.send_email(notification, delivery_key=delivery.key, language=language)
    elif delivery.channel == Channel.SMS:
        channels.send_sms(notification, delivery_key=delivery.key)
    elif delivery.channel == Channel.IM:
        sent_to = list(delivery.sent_to or [])

        def on_sent(endpoint_pk: int) -> None:
            sent_to.append(endpoint_pk)
            _held(delivery).update(sent_to=sent_to)

        channels.send_im(notification, delivery_key=delivery.key, skip=set(sent_to), on_sent=on_sent)
    else:  # pragma: no cover - the choices allow no other
        raise DeliveryError(f"unknown channel {delivery.channel}")


def _failed(delivery: Delivery, error: str) -> str:
    now = timezone.now()
    if delivery.attempts >= max_attempts():
        _held(delivery).update(status=DeliveryStatus.FAILED, lease_until=None, last_error=error[:2000])
        return "failed"
    # Due again after the back-off: the channel's pump (asked for by core.recovery) takes it then.
    _held(delivery).update(
        status=DeliveryStatus.PENDING,
        lease_until=None,
        next_attempt_at=now + backoff(delivery.attempts),
        last_error=error[:2000],
    )
    return "retry"


# Its priority is set when it is enqueued (core.tasks.prioritised): a priority in the decorator
# fails the import on a backend without priorities (RQ).
PHONE_CODE_PRIORITY = 50


@task(queue_name="notifications")
def send_phone_code(message_id: int, phone: str, code: str) -> str:
    """Send a QR reporter's phone code through the active SMS gateway. Tried once: a code that
    comes late is of no use, and the reporter can ask for another. Not through the SMS pump:
    the reporter is waiting on the page, and the code is no notification of a user."""
    from django.conf import settings
    from django.utils import translation

    gateway = channels.active_sms_gateway()
    if gateway is None:
        logger.warning("A phone code was asked for, but no SMS gateway is active")
        return "no_gateway"
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Your fieldservice code is %(code)s. It is valid for 10 minutes.") % {"code": code}
    try:
        channels.post_to_sms(gateway, phone, text, event="public.phone_code", delivery_id=f"code-{message_id}")
    except DeliveryError as error:
        logger.warning("The phone code could not be sent: %s", error)
        return "failed"
    return "sent"
