"""The HTTP door for gateways that post (POST /api/v1/iot/messages).

The device proves who it is with `Authorization: Device <token>`, not with a user's API token.
The body is one message (the MQTT message's JSON without its "token") or `{"messages": [...]}`,
up to 500 of them. Every message goes through the one ingest path (`iot.services.ingest`), which
checks the token, the payload and the machines, stores what passes and counts what it refuses;
this door only maps its outcomes to a status:

- 202: stored (a batch: at least one message stored; each message's outcome is in the answer);
- 401: the token is missing, unknown, wrong or revoked;
- 400: a malformed message, named by its place and field ("messages[2].readings[0].value: ...");
  also a time too far in the future or older than the retention;
- 403: a machine the device does not serve;
- 413: a body larger than 1 MB;
- 429: the device posts faster than FSM_IOT_HTTP_REQUESTS_PER_MINUTE.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.security import APIKeyHeader

from fieldservice.iot.choices import Door, RejectReason
from fieldservice.iot.services.ingest import MAX_BYTES, Envelope, count_refused, ingest

router = Router(tags=["iot"])

MAX_MESSAGES = 500
SCHEME = "device"
CREDENTIAL_REASONS = {RejectReason.UNKNOWN_DEVICE, RejectReason.BAD_CREDENTIALS, RejectReason.REVOKED}
STATUS_OF = {RejectReason.NOT_ITS_MACHINE: 403, **dict.fromkeys(CREDENTIAL_REASONS, 401)}


class DeviceToken(APIKeyHeader):
    """`Authorization: Device <token>`. The token is checked by the ingest path, which counts a
    wrong one as a refusal; here it is only taken from the header (a request without one goes on
    with an empty token, refused and counted there as well)."""

    param_name = "Authorization"
    openapi_description = "`Authorization: Device <token>`: the token the administrator issued to the device."

    def authenticate(self, request, key):
        scheme, _space, token = (key or "").strip().partition(" ")
        return DeviceCredentials(token.strip() if scheme.lower() == SCHEME else "")


class DeviceCredentials:
    """What the header claims; always truthy, so that the ingest path decides (and counts)."""

    def __init__(self, token: str):
        self.token = token

    def __bool__(self) -> bool:
        return True


class OutcomeOut(Schema):
    ok: bool
    reason: str = ""
    detail: str = ""
    readings: int = 0
    alarms: int = 0


class IngestOut(Schema):
    accepted: int
    refused: int
    readings: int
    alarms: int
    outcomes: list[OutcomeOut]


class RefusedOut(Schema):
    detail: str
    code: str
    outcomes: list[OutcomeOut] = []


# The body as documented (docs/IOT.md); the ingest path checks it, this door does not.
MESSAGE_SCHEMA = {
    "type": "object",
    "properties": {
        "machine": {"type": "string", "description": "The serial number the items are of, unless they name one."},
        "readings": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "metric": {"type": "string"},
                    "value": {"type": "number"},
                    "unit": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"},
                    "machine": {"type": "string"},
                },
                "required": ["metric", "value", "at"],
            },
        },
        "alarms": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "state": {"type": "string", "enum": ["raised", "cleared"]},
                    "severity": {"type": "string", "enum": ["info", "warning", "critical"]},
                    "message": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"},
                    "machine": {"type": "string"},
                },
                "required": ["code", "at"],
            },
        },
        "heartbeat": {"type": "boolean"},
    },
    "additionalProperties": False,
}
BODY_SCHEMA = {
    "oneOf": [
        MESSAGE_SCHEMA,
        {
            "type": "object",
            "properties": {"messages": {"type": "array", "items": MESSAGE_SCHEMA, "minItems": 1, "maxItems": 500}},
            "required": ["messages"],
            "additionalProperties": False,
        },
    ]
}


def _too_many(token: str) -> bool:
    """A fixed window per minute and token (a wrong token has its own window, so it cannot use up
    a device's)."""
    limit = int(getattr(settings, "FSM_IOT_HTTP_REQUESTS_PER_MINUTE", 600))
    if limit <= 0 or not token:
        return False
    key = "iot:http:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    try:
        cache.add(key, 0, 60)
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        return False


def _placed(n: int, outcome) -> str:
    """The ingest path's detail with the message's place in the batch in front of it."""
    if not outcome.detail or outcome.reason in CREDENTIAL_REASONS:
        return outcome.detail
    if outcome.detail.startswith(("readings[", "alarms[")):
        return f"messages[{n}].{outcome.detail}"
    return f"messages[{n}]: {outcome.detail}"


def _refused(status: int, code: str, detail: str, outcomes=()):
    return status, {"detail": detail, "code": code, "outcomes": list(outcomes)}


@router.post(
    "/messages",
    auth=DeviceToken(),
    response={202: IngestOut, 400: RefusedOut, 401: RefusedOut, 403: RefusedOut, 413: RefusedOut, 429: RefusedOut},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": BODY_SCHEMA}}}},
)
def post_messages(request):
    """Readings, alarms and heartbeats from a device or gateway: one message, or up to 500 as
    {"messages": [...]}. See docs/IOT.md for the format."""
    token = request.auth.token
    if _too_many(token):
        return _refused(429, "rate_limited", _("Too many requests from this device; slow down."))
    length = request.META.get("CONTENT_LENGTH") or "0"
    if (length.isascii() and length.isdigit() and int(length) > MAX_BYTES) or len(request.body) > MAX_BYTES:
        detail = "body larger than 1 MB"
        count_refused(Door.HTTP, token, RejectReason.MALFORMED, detail)
        return _refused(413, RejectReason.MALFORMED, detail)
    body = request.body
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None  # the ingest path says what is wrong with it, and counts it
    batch = isinstance(data, dict) and "messages" in data
    if batch:
        messages = data["messages"]
        if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES or len(data) > 1:
            detail = f"messages: a list of 1 to {MAX_MESSAGES} messages, and nothing beside it"
            count_refused(Door.HTTP, token, RejectReason.MALFORMED, detail)
            return _refused(400, RejectReason.MALFORMED, detail)
        # A message that is not an object goes in as its JSON, which the path refuses as such.
        payloads = [m if isinstance(m, dict) else json.dumps(m) for m in messages]
    else:
        payloads = [data if isinstance(data, dict) else body]
    outcomes = ingest([Envelope(Door.HTTP, payload, token=token) for payload in payloads])
    shown = [
        OutcomeOut(
            ok=o.ok,
            reason=o.reason,
            detail=_placed(n, o) if batch else o.detail,
            readings=o.readings,
            alarms=o.alarms,
        )
        for n, o in enumerate(outcomes)
    ]
    accepted = [o for o in outcomes if o.ok]
    if not accepted:
        first = next(o for o in shown if not o.ok)
        return _refused(STATUS_OF.get(first.reason, 400), first.reason, first.detail, shown)
    return 202, {
        "accepted": len(accepted),
        "refused": len(outcomes) - len(accepted),
        "readings": sum(o.readings for o in accepted),
        "alarms": sum(o.alarms for o in accepted),
        "outcomes": shown,
    }
