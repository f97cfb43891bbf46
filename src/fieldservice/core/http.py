"""Outgoing HTTP for notifications and webhooks: the address check and the signed POST.

Every outgoing POST carries
    X-FSM-Event       the event name
    X-FSM-Delivery    a stable id of this delivery; a retry sends the same id, so a receiver
                      that sees it twice can drop the second
    X-FSM-Timestamp   seconds since the epoch
    X-FSM-Signature   sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the shared secret>
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

TIMEOUT_SECONDS = 10


class DeliveryError(Exception):
    """The receiver could not be reached or did not answer 2xx."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass
class Response:
    status: int
    body: str


def _own_host_names() -> set[str]:
    names = {"localhost", "localhost.localdomain", socket.gethostname().lower()}
    names.update(h.lower().lstrip(".") for h in settings.ALLOWED_HOSTS if h and h != "*")
    public = urlsplit(settings.FSM_PUBLIC_BASE_URL).hostname
    if public:
        names.add(public.lower())
    return names


def _allowed_exceptions() -> set[str]:
    # Deployments that relay through a gateway on this machine list it here (and tests do).
    return {h.strip().lower() for h in getattr(settings, "FSM_OUTGOING_ALLOWED_HOSTS", []) if h.strip()}


def _is_this_machine(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_loopback or ip.is_unspecified or ip.is_link_local or ip.is_multicast


def check_outgoing_url(url: str, *, field: str = "url") -> str:
    """The address a notification or webhook may be sent to: http(s), with a host that is not
    this server. Raises ValidationError on `field`."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError({field: ValidationError(_("Enter an http:// or https:// address."), code="invalid")})
    host = parts.hostname.lower()
    if host in _allowed_exceptions():
        return url
    if host in _own_host_names():
        raise ValidationError(
            {field: ValidationError(_("This address points to this server itself."), code="self_target")}
        )
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError):
        raise ValidationError(
            {
                field: ValidationError(
                    _("The host name %(host)s cannot be resolved.") % {"host": host}, code="unresolvable"
                )
            }
        ) from None
    if any(_is_this_machine(address.split("%")[0]) for address in addresses):
        raise ValidationError(
            {field: ValidationError(_("This address points to this server itself."), code="self_target")}
        )
    return url


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect could lead past the address check to this server; a receiver must answer itself.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def post_signed(
    url: str, payload: dict, *, secret: str, event: str, delivery_id: str, timeout: float = TIMEOUT_SECONDS
) -> Response:
    """POST `payload` as JSON, signed. Raises DeliveryError unless the receiver answers 2xx.
    The address is checked again here: a name may resolve elsewhere than when it was saved."""
    try:
        check_outgoing_url(url)
    except ValidationError as error:
        raise DeliveryError("; ".join(error.messages)) from None
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "fieldservice-webhook/1",
            "X-FSM-Event": event,
            "X-FSM-Delivery": delivery_id,
            "X-FSM-Timestamp": timestamp,
            "X-FSM-Signature": sign(secret, timestamp, body) if secret else "",
        },
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            return Response(status=response.status, body=response.read(2000).decode(errors="replace"))
    except urllib.error.HTTPError as error:
        text = error.read(500).decode(errors="replace")
        raise DeliveryError(f"HTTP {error.code}: {text}", status=error.code) from None
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"{type(error).__name__}: {reason}") from None
