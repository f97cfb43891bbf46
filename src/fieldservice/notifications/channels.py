"""How a notification leaves on each channel. Every HTTP call goes through
`core.http.post_signed` (address check, no redirects, timeout, X-FSM-* headers); the group
robots additionally get their own message format and signature:

- WeCom: {"msgtype": "text", "text": {"content", "mentioned_mobile_list"}}; our X-FSM-Signature.
- DingTalk: {"msgtype": "text", "text": {"content"}, "at": {"atMobiles"}}; with a secret, the
  query parameters timestamp (ms) and sign = base64(HMAC-SHA256(key=secret,
  msg="<timestamp>\\n<secret>")).
- Feishu: {"msg_type": "text", "content": {"text"}}; with a secret, "timestamp" (s) and
  "sign" = base64(HMAC-SHA256(key="<timestamp>\\n<secret>", msg="")) in the body.
- Generic: our JSON, signed with X-FSM-Signature.
The robots answer HTTP 200 with an error code in the body when they refuse; that is a failure too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import quote_plus, urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import translation
from django.utils.translation import gettext as _

from fieldservice.core.http import DeliveryError, Response, post_signed
from fieldservice.notifications.choices import ImKind
from fieldservice.notifications.models import ImEndpoint, Notification, SmsGateway

SMS_MAX_LENGTH = 300


class RecipientError(DeliveryError):
    """The message cannot go out for a reason of ours (no address on file, no gateway set up),
    not because the destination failed: it does not count against the destination's circuit."""


def absolute_url(path: str) -> str:
    if not path:
        return ""
    return settings.FSM_PUBLIC_BASE_URL.rstrip("/") + path


def plain_text(notification: Notification, *, limit: int | None = None) -> str:
    parts = [notification.title]
    if notification.body:
        parts.append(notification.body)
    text = "\n".join(parts)
    link = absolute_url(notification.url)
    if limit is not None and len(text) + len(link) + 1 > limit:
        text = text[: max(limit - len(link) - 2, 0)] + "…"
    return f"{text}\n{link}" if link else text


# --- e-mail ------------------------------------------------------------------------------


def message_id(delivery_key: str) -> str:
    host = urlsplit(settings.FSM_PUBLIC_BASE_URL).hostname or "fieldservice.invalid"
    return f"<{delivery_key}@{host}>"


def send_email(notification: Notification, *, delivery_key: str, language: str) -> None:
    recipient = notification.recipient
    # A contact of a customer (no user) gets the text as written, without our settings' footer.
    address = recipient.email if recipient is not None else notification.to_email
    if not address:
        raise RecipientError(_("The recipient has no e-mail address."))
    with translation.override(language):
        body = notification.body
        if notification.url:
            # Outside the f-string, or makemessages never sees the text.
            link_text = _("Open in fieldservice: %(url)s") % {"url": absolute_url(notification.url)}
            body = f"{body}\n\n{link_text}"
        footer = _("You get this because of your notification settings in fieldservice.") if recipient else ""
    timeout = getattr(settings, "EMAIL_TIMEOUT", None) or settings.FSM_DELIVERY_DEADLINE_SECONDS
    connection = get_connection(timeout=timeout)
    message = EmailMessage(
        subject=notification.title,
        body=f"{body}\n\n-- \n{footer}" if footer else body,
        to=[address],
        # The Message-ID is the delivery id: a copy sent again after a worker died mid-send has
        # the same one, and mail clients show it once.
        headers={"X-FSM-Delivery": delivery_key, "Message-ID": message_id(delivery_key)},
        connection=connection,
    )
    try:
        message.send()
    except Exception as error:  # SMTP errors come in many classes; all mean "try again later"
        raise DeliveryError(f"{type(error).__name__}: {error}") from None


# --- SMS -----------------------------------------------------------------------------------


def post_to_sms(gateway: SmsGateway, phone: str, text: str, *, event: str, delivery_id: str) -> Response:
    return post_signed(
        gateway.url, {"phone": phone, "text": text}, secret=gateway.secret, event=event, delivery_id=delivery_id
    )


def active_sms_gateway() -> SmsGateway | None:
    return SmsGateway.objects.filter(is_active=True).order_by("pk").first()


def send_sms(notification: Notification, *, delivery_key: str) -> Response:
    phone = notification.recipient.phone if notification.recipient is not None else notification.to_phone
    if not phone:
        raise RecipientError(_("The recipient has no phone number."))
    gateway = active_sms_gateway()
    if gateway is None:
        raise RecipientError(_("No SMS gateway is active."))
    text = plain_text(notification, limit=SMS_MAX_LENGTH)
    return post_to_sms(gateway, phone, text, event=notification.event, delivery_id=delivery_key)


# --- IM ------------------------------------------------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def im_request(
    endpoint: ImEndpoint, text: str, *, mention_phones: list[str] | tuple = (), extra: dict | None = None
) -> tuple[str, dict, str]:
    """(url, JSON payload, secret for X-FSM-Signature) of one message to `endpoint`."""
    url, secret = endpoint.url, endpoint.secret
    phones = [phone for phone in mention_phones if phone]
    if endpoint.kind == ImKind.WECOM:
        text_part = {"content": text}
        if phones:
            text_part["mentioned_mobile_list"] = phones
        return url, {"msgtype": "text", "text": text_part}, secret
    if endpoint.kind == ImKind.DINGTALK:
        payload = {"msgtype": "text", "text": {"content": text}}
        if phones:
            payload["at"] = {"atMobiles": phones, "isAtAll": False}
        if secret:
            timestamp = str(int(time.time() * 1000))
            separator = "&" if "?" in url else "?"
            url = f"{url}{separator}timestamp={timestamp}&sign={quote_plus(dingtalk_sign(secret, timestamp))}"
        return url, payload, ""
    if endpoint.kind == ImKind.FEISHU:
        payload = {"msg_type": "text", "content": {"text": text}}
        if secret:
            timestamp = str(int(time.time()))
            payload.update(timestamp=timestamp, sign=feishu_sign(secret, timestamp))
        return url, payload, ""
    return url, {"text": text, **(extra or {})}, secret


def _check_robot_answer(endpoint: ImEndpoint, response: Response) -> Response:
    if endpoint.kind == ImKind.GENERIC:
        return response
    try:
        answer = json.loads(response.body)
    except ValueError:
        return response
    if not isinstance(answer, dict):
        return response
    for name in ("errcode", "code", "StatusCode"):
        if name in answer and answer[name] not in (0, "0"):
            message = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
            raise DeliveryError(f"{name} {answer[name]}: {message}"[:500], status=response.status)
    return response


def post_to_im(
    endpoint: ImEndpoint,
    text: str,
    *,
    event: str,
    delivery_id: str,
    mention_phones: list[str] | tuple = (),
    extra: dict | None = None,
) -> Response:
    url, payload, secret = im_request(endpoint, text, mention_phones=mention_phones, extra=extra)
    response = post_signed(url, payload, secret=secret, event=event, delivery_id=delivery_id)
    return _check_robot_answer(endpoint, response)


def active_im_endpoints() -> list[ImEndpoint]:
    return list(ImEndpoint.objects.filter(is_active=True).order_by("pk"))


def send_im(notification: Notification, *, delivery_key: str, skip: set[int], on_sent) -> None:
    """Post to every active endpoint not in `skip`; `on_sent(endpoint_pk)` after each success,
    so a retry after a partial failure does not post twice to the same group."""
    endpoints = [endpoint for endpoint in active_im_endpoints() if endpoint.pk not in skip]
    if not endpoints and not skip:
        raise RecipientError(_("No IM endpoint is active."))
    recipient = notification.recipient
    text = f"@{recipient} {plain_text(notification)}"
    extra = {
        "event": notification.event,
        "title": notification.title,
        "body": notification.body,
        "url": absolute_url(notification.url),
        "recipient": {"id": recipient.pk, "username": recipient.username, "name": str(recipient)},
    }
    errors = []
    for endpoint in endpoints:
        try:
            post_to_im(
                endpoint,
                text,
                event=notification.event,
                delivery_id=delivery_key,
                mention_phones=[recipient.phone],
                extra=extra,
            )
        except DeliveryError as error:
            errors.append(f"{endpoint.name}: {error}")
        else:
            on_sent(endpoint.pk)
    if errors:
        raise DeliveryError("; ".join(errors)[:2000])
