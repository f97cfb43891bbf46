"""Notifications: templates, preferences, channel configuration, reading, and what the pumps of
the channels need to send deliveries (core.destinations).

Templates are Django template syntax rendered by a bare engine (no loaders, no tag libraries)
with a plain dict, so an administrator's text can format values but reach nothing else.
"""

from __future__ import annotations

import logging
from uuid import uuid4

from django.conf import settings
from django.db import transaction
from django.template import Context
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fieldservice.accounts.models import User
from fieldservice.core import destinations, text_templates
from fieldservice.core.errors import DomainError, field_error, require
from fieldservice.core.events import DELETED, record_created, record_event, record_updated, snapshot
from fieldservice.core.http import DeliveryError, check_outgoing_url
from fieldservice.core.outbox import batch_memo
from fieldservice.notifications.choices import (
    ALWAYS_IN_APP,
    CHANNEL_DEFAULTS,
    Channel,
    DeliveryStatus,
    Event,
    ImKind,
)
from fieldservice.notifications.defaults import DEFAULT_TEMPLATES, FALLBACK_TEMPLATE, SAMPLE_CONTEXT
from fieldservice.notifications.models import (
    BODY_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    Delivery,
    ImEndpoint,
    Notification,
    NotificationPreference,
    NotificationTemplate,
    SmsGateway,
)
from fieldservice.notifications.permissions import may_manage_notifications

logger = logging.getLogger(__name__)

# The one engine of texts people write (core.text_templates), shared with customer care.
ENGINE = text_templates.ENGINE
LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
ENDPOINT_FIELDS = ["name", "kind", "url", "is_active"]
GATEWAY_FIELDS = ["name", "url", "is_active"]
TEMPLATE_FIELDS = ["subject", "body"]
SECRET_MAX_LENGTH = 200


def max_attempts() -> int:
    return settings.FSM_DELIVERY_MAX_ATTEMPTS


# --- templates ---------------------------------------------------------------------------


def language_of(user: User) -> str:
    return user.language if user.language in LANGUAGE_CODES else settings.LANGUAGE_CODE


def _context(event: str, values: dict) -> Context:
    plain = {str(name): value for name, value in values.items()}
    return Context({**plain, "event": event, "values": sorted(plain.items())}, autoescape=False)


def render_text(source: str, event: str, values: dict) -> str:
    return text_templates.compiled(source).render(_context(event, values)).strip()


def template_source(event: str, language: str) -> dict[str, str]:
    """The text an event uses: the edited row, else the shipped default, else the fallback."""
    row = batch_memo(
        ("notification_template", event, language),
        lambda: NotificationTemplate.objects.filter(event=event, language=language).first(),
    )
    if row is not None:
        return {"subject": row.subject, "body": row.body}
    return default_source(event, language)


def default_source(event: str, language: str) -> dict[str, str]:
    texts = DEFAULT_TEMPLATES.get(event) or FALLBACK_TEMPLATE
    return dict(texts.get(language) or texts["en"])


def _render(source: dict[str, str], event: str, values: dict) -> tuple[str, str]:
    title = " ".join(render_text(source["subject"], event, values).split())
    return title[:SUBJECT_MAX_LENGTH] or event, render_text(source["body"], event, values)[:BODY_MAX_LENGTH]


def render_notification(event: str, language: str, values: dict) -> tuple[str, str]:
    """(title, body) in `language`. An edited text that fails at render time falls back to the
    shipped one: a bad template must not hold up the outbox."""
    with translation.override(language):
        try:
            return _render(template_source(event, language), event, values)
        except Exception:
            logger.exception("Notification template %s (%s) failed; using the default", event, language)
            return _render(default_source(event, language), event, values)


def _check_template(source: str, field: str, event: str) -> str:
    return text_templates.check(source, field, lambda text: render_text(text, event, SAMPLE_CONTEXT.get(event, {})))


def _check_template_fields(event: str, language: str, subject: str, body: str) -> dict[str, str]:
    if event not in Event.values:
        raise field_error("event", _("Choose an event."), "invalid_choice")
    if language not in LANGUAGE_CODES:
        raise field_error("language", _("Choose a language."), "invalid_choice")
    subject = (subject or "").strip()
    body = (body or "").strip()
    if not subject:
        raise field_error("subject", _("This field is required."), "required")
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise field_error("subject", _("At most %(n)d characters.") % {"n": SUBJECT_MAX_LENGTH}, "max_length")
    if len(body) > BODY_MAX_LENGTH:
        raise field_error("body", _("At most %(n)d characters.") % {"n": BODY_MAX_LENGTH}, "max_length")
    return {"subject": _check_template(subject, "subject", event), "body": _check_template(body, "body", event)}


def preview_template(*, actor: User, event: str, language: str, subject: str, body: str) -> tuple[str, str]:
    """What the text would say with the sample values. Raises ValidationError like saving."""
    require(may_manage_notifications(actor))
    fields = _check_template_fields(event, language, subject, body)
    with translation.override(language):
        return _render(fields, event, SAMPLE_CONTEXT.get(event, {}))


@transaction.atomic
def save_template(*, actor: User, event: str, language: str, subject: str, body: str) -> NotificationTemplate:
    require(may_manage_notifications(actor))
    fields = _check_template_fields(event, language, subject, body)
    template = NotificationTemplate.objects.select_for_update().filter(event=event, language=language).first()
    if template is None:
        template = NotificationTemplate.objects.create(event=event, language=language, **fields)
        record_created(template, actor=actor, fields=TEMPLATE_FIELDS)
        return template
    before = snapshot(template, TEMPLATE_FIELDS)
    for name, value in fields.items():
        setattr(template, name, value)
    template.save()
    record_updated(template, actor=actor, before=before)
    return template


def reset_template(*, actor: User, event: str, language: str) -> NotificationTemplate:
    """Back to the text the product ships."""
    require(may_manage_notifications(actor))
    if event not in DEFAULT_TEMPLATES:
        raise field_error("event", _("Choose an event."), "invalid_choice")
    return save_template(actor=actor, event=event, language=language, **default_source(event, language))


# --- preferences -------------------------------------------------------------------------


def preference_field(event: str, channel: str) -> str:
    """The name a preference goes by in forms and errors: "<event or all>__<channel>"."""
    return f"{event or 'all'}__{channel}"


def is_enabled(rows: dict[tuple[str, str], bool], event: str, channel: str) -> bool:
    """`rows`: {(event, channel): enabled} of one user. The event's row wins over the
    all-events row, which wins over the default."""
    if channel == Channel.IN_APP and event in ALWAYS_IN_APP:
        return True
    if (event, channel) in rows:
        return rows[(event, channel)]
    if ("", channel) in rows:
        return rows[("", channel)]
    return CHANNEL_DEFAULTS[channel]


def preferences_of(user: User) -> dict[tuple[str, str], bool]:
    return {
        (row.event, row.channel): row.enabled
        for row in NotificationPreference.objects.filter(user=user).only("event", "channel", "enabled")
    }


def preferences_for_users(user_ids, event: str) -> dict[int, dict[tuple[str, str], bool]]:
    user_ids = sorted(set(user_ids))
    return batch_memo(("notification_preferences", tuple(user_ids), event), lambda: _preferences(user_ids, event))


def _preferences(user_ids, event: str) -> dict[int, dict[tuple[str, str], bool]]:
    rows: dict[int, dict[tuple[str, str], bool]] = {pk: {} for pk in user_ids}
    for user_id, row_event, channel, enabled in NotificationPreference.objects.filter(
        user_id__in=list(user_ids), event__in=[event, ""]
    ).values_list("user_id", "event", "channel", "enabled"):
        rows[user_id][(row_event, channel)] = enabled
    return rows


@transaction.atomic
def set_preferences(user: User, *, actor: User, choices: dict[tuple[str, str], bool | None]) -> None:
    """Set the user's own choices. `choices`: {(event or "", channel): True / False, or None
    for "as for all events" (the row goes)}. Nothing is saved if one choice is refused."""
    require(actor.is_authenticated and actor.pk == user.pk)
    for (event, channel), enabled in choices.items():
        field = preference_field(event, channel)
        if channel not in Channel.values or (event and event not in Event.values):
            raise field_error(field, _("There is no such notification setting."), "invalid_choice")
        if enabled is None and not event:
            raise field_error(field, _("Choose on or off."), "required")
        if enabled is False and channel == Channel.IN_APP and event in ALWAYS_IN_APP:
            raise field_error(
                field,
                _("A missed SLA deadline is always shown in the app: someone must act on it."),
                "always_on",
            )
    for (event, channel), enabled in choices.items():
        if enabled is None:
            NotificationPreference.objects.filter(user=user, event=event, channel=channel).delete()
        else:
            NotificationPreference.objects.update_or_create(
                user=user, event=event, channel=channel, defaults={"enabled": enabled}
            )


# --- IM endpoints and SMS gateways --------------------------------------------------------


def _check_common(fields: dict) -> dict:
    cleaned = {}
    for name, value in fields.items():
        if name == "name":
            value = (value or "").strip()
            if not value:
                raise field_error("name", _("This field is required."), "required")
            if len(value) > 100:
                raise field_error("name", _("At most %(n)d characters.") % {"n": 100}, "max_length")
        elif name == "url":
            value = check_outgoing_url(value, field="url")
            if len(value) > 500:
                raise field_error("url", _("At most %(n)d characters.") % {"n": 500}, "max_length")
        elif name == "kind":
            if value not in ImKind.values:
                raise field_error("kind", _("Choose a kind."), "invalid_choice")
        elif name == "is_active":
            value = bool(value)
        elif name == "secret":
            value = (value or "").strip()
            if len(value) > SECRET_MAX_LENGTH:
                raise field_error("secret", _("At most %(n)d characters.") % {"n": SECRET_MAX_LENGTH}, "max_length")
        else:
            raise field_error(name, _("This field cannot be set here."), "unknown_field")
        cleaned[name] = value
    return cleaned


def _save_config(model, obj, *, actor: User, record_fields: list[str], fields: dict, secret: str | None):
    """Create (obj None) or update. `secret` None keeps the stored one: it is never shown again,
    so an empty field on the form means "unchanged"."""
    require(may_manage_notifications(actor))
    if "kind" in fields and model is not ImEndpoint:
        raise field_error("kind", _("This field cannot be set here."), "unknown_field")
    cleaned = _check_common(fields)
    if secret is not None:
        cleaned["secret"] = _check_common({"secret": secret})["secret"]
    note = _("secret changed") if "secret" in cleaned and (obj is None or cleaned["secret"] != obj.secret) else ""
    # A new or changed gateway or robot may be what the channel was waiting for: its waiting
    # deliveries go now, whatever back-off the old one earned them.
    channel = Channel.SMS if model is SmsGateway else Channel.IM
    Delivery.objects.filter(channel=channel, status=DeliveryStatus.PENDING).update(next_attempt_at=timezone.now())
    destinations.reset(channel)
    if obj is None:
        obj = model.objects.create(**cleaned)
        record_created(obj, actor=actor, fields=record_fields, note=_("secret set") if obj.secret else "")
        return obj
    obj = model.objects.select_for_update().get(pk=obj.pk)
    before = snapshot(obj, record_fields)
    for name, value in cleaned.items():
        setattr(obj, name, value)
    obj.save()
    if record_updated(obj, actor=actor, before=before, note=note) is None and note:
        record_event(obj, actor=actor, action="updated", note=note)
    return obj


@transaction.atomic
def create_im_endpoint(
    *, actor: User, name: str, url: str, kind: str = ImKind.GENERIC, secret: str = "", is_active: bool = True
) -> ImEndpoint:
    return _save_config(
        ImEndpoint,
        None,
        actor=actor,
        record_fields=ENDPOINT_FIELDS,
        fields={"name": name, "kind": kind, "url": url, "is_active": is_active},
        secret=secret,
    )


@transaction.atomic
def update_im_endpoint(endpoint: ImEndpoint, *, actor: User, secret: str | None = None, **fields) -> ImEndpoint:
    return _save_config(ImEndpoint, endpoint, actor=actor, record_fields=ENDPOINT_FIELDS, fields=fields, secret=secret)


@transaction.atomic
def create_sms_gateway(*, actor: User, name: str, url: str, secret: str = "", is_active: bool = True) -> SmsGateway:
    return _save_config(
        SmsGateway,
        None,
        actor=actor,
        record_fields=GATEWAY_FIELDS,
        fields={"name": name, "url": url, "is_active": is_active},
        secret=secret,
    )


@transaction.atomic
def update_sms_gateway(gateway: SmsGateway, *, actor: User, secret: str | None = None, **fields) -> SmsGateway:
    return _save_config(SmsGateway, gateway, actor=actor, record_fields=GATEWAY_FIELDS, fields=fields, secret=secret)


@transaction.atomic
def delete_channel_config(obj: ImEndpoint | SmsGateway, *, actor: User) -> None:
    require(may_manage_notifications(actor))
    record_event(obj, actor=actor, action=DELETED)
    obj.delete()


def _test_text(actor: User) -> str:
    return _("Test message from fieldservice, sent by %(name)s.") % {"name": actor}


def send_test_im(endpoint: ImEndpoint, *, actor: User) -> str:
    """Send a test message now, not through the queue, and say what the receiver answered.
    Raises DomainError("send_failed") with the reason."""
    from fieldservice.notifications.channels import post_to_im

    require(may_manage_notifications(actor))
    try:
        response = post_to_im(endpoint, _test_text(actor), event="test", delivery_id=f"test-{uuid4().hex}")
    except DeliveryError as error:
        raise DomainError("send_failed", _("The test message failed: %(error)s") % {"error": error}) from None
    return _("The receiver answered HTTP %(status)s.") % {"status": response.status}


def send_test_sms(gateway: SmsGateway, *, actor: User, phone: str) -> str:
    from fieldservice.notifications.channels import post_to_sms

    require(may_manage_notifications(actor))
    phone = (phone or "").strip()
    if not phone:
        raise field_error("phone", _("Enter the phone number to send the test to."), "required")
    if len(phone) > 32:
        raise field_error("phone", _("At most %(n)d characters.") % {"n": 32}, "max_length")
    try:
        response = post_to_sms(gateway, phone, _test_text(actor), event="test", delivery_id=f"test-{uuid4().hex}")
    except DeliveryError as error:
        raise DomainError("send_failed", _("The test message failed: %(error)s") % {"error": error}) from None
    return _("The receiver answered HTTP %(status)s.") % {"status": response.status}


# --- reading -----------------------------------------------------------------------------


def mark_read(notification: Notification, *, actor: User) -> Notification:
    """Mark one of the actor's own notifications read. Marking it again keeps the first time."""
    require(actor.is_authenticated and notification.recipient_id == actor.pk)
    Notification.objects.filter(pk=notification.pk, recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    notification.refresh_from_db(fields=["read_at"])
    return notification


def mark_all_read(*, actor: User) -> int:
    require(actor.is_authenticated)
    return Notification.objects.filter(recipient=actor, read_at__isnull=True, delivered_at__isnull=False).update(
        read_at=timezone.now()
    )


# --- deliveries --------------------------------------------------------------------------


# Each channel is one destination for the pumps (core.destinations): the mail server, the SMS
# gateway, the IM robots, the in-app inbox. Their pumps run in the "notifications" queue, which
# every worker takes before anything else.


def request_send_after_commit(channels) -> None:
    destinations.request_pumps_after_commit(channels)


def _due(key: str, now):
    return Delivery.objects.filter(channel=key, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)


def has_due(key: str, now) -> bool:
    return _due(key, now).exists()


def claim_due(key: str, now, limit: int) -> list[Delivery]:
    """Claim the oldest due deliveries of one channel for its pump (see core.destinations)."""
    return destinations.claim(_due(key, now), now, limit, "notification__recipient")


def destinations_due(now) -> list[str]:
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .values_list("channel", flat=True)
        .distinct()
    )


def destination_label(key: str) -> str:
    if key == Channel.SMS:
        gateway = SmsGateway.objects.filter(is_active=True).order_by("pk").first()
        if gateway is not None:
            return _("SMS gateway “%(name)s”") % {"name": gateway.name}
    return {
        Channel.EMAIL: _("Mail server"),
        Channel.SMS: _("SMS gateway"),
        Channel.IM: _("IM robots"),
        Channel.IN_APP: _("In-app inbox"),
    }.get(key, key)


def channel_states() -> list[dict]:
    """Each channel's destination and its circuit, for the administrators' page."""
    states = {d.key: d for d in destinations.Destination.objects.filter(key__in=Channel.values)}
    return [
        {"channel": label, "label": destination_label(code), "destination": states.get(code)}
        for code, label in Channel.choices
    ]


def release_expired(now) -> int:
    return destinations.release_expired(Delivery, now, max_attempts())


def destination_kind() -> destinations.Kind:
    """Registered by the app's ready()."""
    from fieldservice.notifications.tasks import send_claimed

    return destinations.Kind(
        prefixes=tuple(Channel.values),
        queue="notifications",
        priority=50,
        label=destination_label,
        claim=claim_due,
        attempt=send_claimed,
        give_back=destinations.give_back,
        has_due=has_due,
        due_keys=destinations_due,
        release_expired=release_expired,
    )


@transaction.atomic
def retry_delivery(delivery: Delivery, *, actor: User) -> Delivery:
    """Try a failed delivery again, from a fresh count of attempts."""
    require(may_manage_notifications(actor))
    now = timezone.now()
    changed = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, lease_until=None
    )
    if changed != 1:
        raise DomainError("not_failed", _("Only a failed delivery can be tried again."))
    delivery.refresh_from_db()
    record_event(delivery, actor=actor, action="retried", note=delivery.last_error[:200])
    request_send_after_commit([delivery.channel])
    return delivery
