"""Webhook subscriptions, and sending their deliveries.

Deliveries are rows written by the outbox consumer (`consumers.py`) in the drain's transaction;
the network is touched only by the `deliver` task after that commit, so a slow or failing
receiver never blocks or undoes the business transaction that raised the event.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.core import destinations
from fieldservice.core.destinations import Attempt
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import DELETED, record_created, record_event, record_updated, snapshot
from fieldservice.core.http import DeliveryError, check_outgoing_url, post_signed
from fieldservice.webhooks.choices import PING, DeliveryStatus, WebhookEvent
from fieldservice.webhooks.models import (
    EXCERPT_MAX_LENGTH,
    NAME_MAX_LENGTH,
    URL_MAX_LENGTH,
    WebhookDelivery,
    WebhookSubscription,
)
from fieldservice.webhooks.permissions import may_manage_webhooks

logger = logging.getLogger(__name__)

SUBSCRIPTION_FIELDS = ["name", "url", "events", "active"]
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=6)
# The "Send test" button waits for the receiver this long, inside the admin's request.
TEST_TIMEOUT_SECONDS = 5
ERROR_MAX_LENGTH = 2000


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def max_attempts() -> int:
    return getattr(settings, "FSM_WEBHOOK_MAX_ATTEMPTS", 8)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: 1 min, 2, 4, … at most 6 h."""
    return min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_CAP)


def _check_events(value) -> list[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise field_error("events", _("Choose the events to send."), "invalid")
    chosen = {str(item) for item in value}
    unknown = sorted(chosen - set(WebhookEvent.values))
    if unknown:
        raise field_error("events", _("Unknown event: %(events)s.") % {"events": ", ".join(unknown)}, "invalid_choice")
    if not chosen:
        raise field_error("events", _("Choose at least one event."), "required")
    return [event for event in WebhookEvent.values if event in chosen]


def _check_fields(fields: dict) -> dict:
    cleaned = {}
    for name, value in fields.items():
        if name == "name":
            value = (value or "").strip()
            if not value:
                raise field_error("name", _("This field is required."), "required")
            if len(value) > NAME_MAX_LENGTH:
                raise field_error("name", _("At most %(n)d characters.") % {"n": NAME_MAX_LENGTH}, "max_length")
        elif name == "url":
            value = (value or "").strip()
            if not value:
                raise field_error("url", _("This field is required."), "required")
            if len(value) > URL_MAX_LENGTH:
                raise field_error("url", _("At most %(n)d characters.") % {"n": URL_MAX_LENGTH}, "max_length")
            value = check_outgoing_url(value, field="url")
        elif name == "events":
            value = _check_events(value)
        elif name == "active":
            if not isinstance(value, bool):
                raise field_error("active", _("Choose yes or no."), "invalid")
        else:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
        cleaned[name] = value
    return cleaned


@transaction.atomic
def create_subscription(
    *, actor: User, name: str, url: str, events: list[str], active: bool = True
) -> WebhookSubscription:
    """A new subscription with a new secret. The caller shows `subscription.secret` once."""
    require(may_manage_webhooks(actor))
    cleaned = _check_fields({"name": name, "url": url, "events": events, "active": active})
    subscription = WebhookSubscription.objects.create(created_by=actor, secret=new_secret(), **cleaned)
    record_created(subscription, actor=actor, fields=SUBSCRIPTION_FIELDS)
    return subscription


@transaction.atomic
def update_subscription(subscription: WebhookSubscription, *, actor: User, **fields) -> WebhookSubscription:
    """Change name, URL, events or active; the secret changes only through `rotate_secret`."""
    require(may_manage_webhooks(actor))
    cleaned = _check_fields(fields)
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    before = snapshot(subscription, SUBSCRIPTION_FIELDS)
    for name, value in cleaned.items():
        setattr(subscription, name, value)
    if cleaned:
        subscription.save(update_fields=list(cleaned))
    if before["url"] != subscription.url or (subscription.active and not before["active"]):
        _send_waiting_now(subscription)
    record_updated(subscription, actor=actor, before=before)
    return subscription


@transaction.atomic
def rotate_secret(subscription: WebhookSubscription, *, actor: User) -> WebhookSubscription:
    """A new secret; the old one stops working at once (also for retries still waiting). The
    caller shows `subscription.secret` once."""
    require(may_manage_webhooks(actor))
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.secret = new_secret()
    subscription.secret_rotated_at = timezone.now()
    subscription.save(update_fields=["secret", "secret_rotated_at"])
    record_event(subscription, actor=actor, action="secret_rotated")
    return subscription


@transaction.atomic
def delete_subscription(subscription: WebhookSubscription, *, actor: User) -> None:
    """Remove the subscription and its delivery log; nothing more is sent to it."""
    require(may_manage_webhooks(actor))
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    record_event(subscription, actor=actor, action=DELETED, changes={"url": [subscription.url, None]})
    destinations.forget(destination_key(subscription.pk))
    subscription.delete()


# --- sending ---------------------------------------------------------------------------------
#
# Deliveries are sent by the pump of their subscription's destination (core.destinations): at
# most a few in flight to one receiver, a circuit breaker, and the "default" queue, which every
# worker takes after our own staff's notifications.


def destination_key(subscription_id: int) -> str:
    return f"webhook:{subscription_id}"


def sending_state(subscription: WebhookSubscription):
    """The circuit of the subscription's receiver, for its page (None: nothing sent yet)."""
    return destinations.state_of(destination_key(subscription.pk))


@transaction.atomic
def resume_sending(subscription: WebhookSubscription, *, actor: User) -> None:
    """The administrator says the receiver is fixed: try its waiting deliveries now instead of
    at the end of the pause."""
    require(may_manage_webhooks(actor))
    _send_waiting_now(subscription)
    record_event(subscription, actor=actor, action="sending_resumed")


def _send_waiting_now(subscription: WebhookSubscription) -> None:
    # Their own back-off was for the receiver as it was; it changed.
    WebhookDelivery.objects.filter(subscription=subscription, status=DeliveryStatus.PENDING).update(
        next_attempt_at=timezone.now()
    )
    destinations.reset(destination_key(subscription.pk))


def _subscription_id(key: str) -> int:
    return int(key.split(":", 1)[1])


def request_send_after_commit(subscription_ids) -> None:
    destinations.request_pumps_after_commit(destination_key(pk) for pk in subscription_ids)


def _due(key: str, now):
    return WebhookDelivery.objects.filter(
        subscription_id=_subscription_id(key), status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    )


def has_due(key: str, now) -> bool:
    return _due(key, now).exists()


def claim_due(key: str, now, limit: int) -> list[WebhookDelivery]:
    """Claim the oldest due deliveries of one subscription for a pump (see core.destinations)."""
    return destinations.claim(_due(key, now), now, limit, "subscription")


def _held(delivery: WebhookDelivery):
    return WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING, attempts=delivery.attempts)


def destinations_due(now) -> list[str]:
    ids = (
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .values_list("subscription_id", flat=True)
        .distinct()
    )
    return [destination_key(pk) for pk in ids]


def destination_label(key: str) -> str:
    subscription = WebhookSubscription.objects.filter(pk=_subscription_id(key)).first()
    name = subscription.name if subscription else key
    return _("Webhook “%(name)s”") % {"name": name}


def _excerpt(text: str) -> str:
    return (text or "")[:EXCERPT_MAX_LENGTH]


def attempt_delivery(delivery_id: int) -> Attempt:
    """Send one delivery if it is pending and due. Claimed by compare-and-set, so two pumps
    given the same delivery send it once."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, lease_until=now + destinations.lease())
    if claimed != 1:
        return Attempt("skipped")
    return send_claimed(WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id))


def send_claimed(delivery: WebhookDelivery) -> Attempt:
    """Send a delivery this pump holds ("sending", its attempt counted). Every write checks the
    claim still holds, so an attempt that outlived its lease changes nothing."""
    subscription = delivery.subscription
    mine = _held(delivery)
    if not subscription.active:
        mine.update(status=DeliveryStatus.FAILED, lease_until=None, last_error=_("The subscription is paused."))
        return Attempt("failed")
    try:
        response = post_signed(
            subscription.url,
            delivery.payload,
            secret=subscription.secret,
            event=delivery.event,
            delivery_id=delivery.key,
        )
    except DeliveryError as error:
        return Attempt(_record_failure(delivery, error), destination_failed=True, error=str(error))
    mine.update(
        status=DeliveryStatus.SENT,
        sent_at=timezone.now(),
        lease_until=None,
        response_status=response.status,
        response_excerpt=_excerpt(response.body),
        last_error="",
    )
    return Attempt("sent")


def _record_failure(delivery: WebhookDelivery, error: DeliveryError) -> str:
    now = timezone.now()
    fields = {
        "lease_until": None,
        "response_status": error.status,
        "response_excerpt": "",
        "last_error": str(error)[:ERROR_MAX_LENGTH],
    }
    mine = _held(delivery)
    if delivery.attempts >= max_attempts():
        mine.update(status=DeliveryStatus.FAILED, **fields)
        return "failed"
    # Due again after the back-off: the pump (asked for by core.recovery) takes it then.
    mine.update(status=DeliveryStatus.PENDING, next_attempt_at=now + backoff(delivery.attempts), **fields)
    return "retry"


def destination_kind() -> destinations.Kind:
    """Registered by the app's ready()."""
    return destinations.Kind(
        prefixes=("webhook",),
        queue="default",
        priority=0,
        label=destination_label,
        claim=claim_due,
        attempt=send_claimed,
        give_back=destinations.give_back,
        has_due=has_due,
        due_keys=destinations_due,
        release_expired=release_expired,
    )


def release_expired(now) -> int:
    return destinations.release_expired(WebhookDelivery, now, max_attempts())


@transaction.atomic
def redeliver(delivery: WebhookDelivery, *, actor: User) -> WebhookDelivery:
    """Send a sent or failed delivery again: the same body and the same delivery id (so the
    receiver can tell it is a repeat), with a fresh series of retries."""
    require(may_manage_webhooks(actor))
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery.pk)
    if not delivery.subscription.active:
        raise DomainError("subscription_paused", _("The subscription is paused; activate it before redelivering."))
    now = timezone.now()
    changed = WebhookDelivery.objects.filter(
        pk=delivery.pk, status__in=[DeliveryStatus.SENT, DeliveryStatus.FAILED]
    ).update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, lease_until=None, sent_at=None)
    if changed != 1:
        raise DomainError("not_finished", _("This delivery is still being sent; wait until it is sent or failed."))
    record_event(delivery.subscription, actor=actor, action="redelivered", note=f"{delivery.key} {delivery.event}")
    request_send_after_commit([delivery.subscription_id])
    delivery.refresh_from_db()
    return delivery


def ping_payload(subscription: WebhookSubscription, at) -> dict:
    return {
        "event": PING,
        "occurred_at": at.isoformat(),
        "data": {"subscription": {"id": subscription.pk, "name": subscription.name, "events": subscription.events}},
    }


def send_test(subscription: WebhookSubscription, *, actor: User) -> WebhookDelivery:
    """Send a signed `ping` now and wait briefly for the answer; the result is in the log (and
    returned). Not retried. Runs outside any transaction: it waits on the network."""
    require(may_manage_webhooks(actor))
    subscription = WebhookSubscription.objects.get(pk=subscription.pk)
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event=PING,
        payload=ping_payload(subscription, now),
        status=DeliveryStatus.SENDING,
        attempts=1,
        next_attempt_at=now,
        lease_until=now + destinations.lease(),
    )
    try:
        response = post_signed(
            subscription.url,
            delivery.payload,
            secret=subscription.secret,
            event=PING,
            delivery_id=delivery.key,
            timeout=TEST_TIMEOUT_SECONDS,
        )
    except DeliveryError as error:
        fields = {
            "status": DeliveryStatus.FAILED,
            "response_status": error.status,
            "last_error": str(error)[:ERROR_MAX_LENGTH],
        }
    else:
        fields = {
            "status": DeliveryStatus.SENT,
            "sent_at": timezone.now(),
            "response_status": response.status,
            "response_excerpt": _excerpt(response.body),
        }
    WebhookDelivery.objects.filter(pk=delivery.pk).update(lease_until=None, **fields)
    delivery.refresh_from_db()
    return delivery
