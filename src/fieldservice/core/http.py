"""Outgoing HTTP for notifications and webhooks: the address check and the signed POST.

Every outgoing HTTP sender (webhooks, SMS gateway, IM robots) goes through this module, so the
guard against server-side request forgery is in one place:
- on save, `check_outgoing_url` refuses a URL whose host is this server or resolves to any address
  that is not public (loopback, private, CGNAT, unique-local, link-local, multicast, reserved,
  documentation, and IPv6 forms that carry such an IPv4 address: mapped, translated, NAT64, 6to4);
- on delivery, `post_signed` resolves the name once, checks every address again (a name may point
  elsewhere by now: DNS rebinding), and connects to the checked address itself, so no second
  resolution happens; redirects are not followed.
FSM_OUTGOING_ALLOWED_HOSTS lists the exceptions: host names, addresses or networks (CIDR).

Every outgoing POST carries
    X-FSM-Event       the event name
    X-FSM-Delivery    a stable id of this delivery; a retry sends the same id, so a receiver
                      that sees it twice can drop the second
    X-FSM-Timestamp   seconds since the epoch
    X-FSM-Signature   sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the shared secret>
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from fieldservice.core.errors import field_error

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv6 ranges whose last 32 bits are an IPv4 address the packet ends up at.
_CARRIES_IPV4 = (
    ipaddress.ip_network("::ffff:0:0/96"),  # IPv4-mapped
    ipaddress.ip_network("::ffff:0:0:0/96"),  # IPv4-translated (SIIT)
    ipaddress.ip_network("64:ff9b::/96"),  # NAT64 well-known prefix
)
# IPv6 ranges never sent out: IPv4-compatible (deprecated), NAT64 local use, Teredo, discard.
_NEVER = (
    ipaddress.ip_network("::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
    ipaddress.ip_network("2001::/32"),
    ipaddress.ip_network("100::/64"),
)


class DeliveryError(Exception):
    """The receiver could not be reached or did not answer 2xx."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass
class Response:
    status: int
    body: str


def is_public_address(ip: IPAddress) -> bool:
    """Whether `ip` is on the public Internet (not this machine, a private network or a special range)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in _CARRIES_IPV4):
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if any(ip in network for network in _NEVER):
            return False
        if ip.sixtofour is not None and not is_public_address(ip.sixtofour):
            return False
    # Python 3.11's is_global leaves multicast and the reserved class E in; neither is a receiver.
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to now. The one resolver of this module (tests replace it)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(info[4][0] for info in infos))


def open_socket(address: str, port: int, timeout: float, source_address=None) -> socket.socket:
    """The one place an outgoing connection is opened, to an address already checked (tests watch it)."""
    return socket.create_connection((address, port), timeout, source_address)


def _own_host_names() -> set[str]:
    names = {"localhost", "localhost.localdomain", socket.gethostname().lower()}
    names.update(h.lower().lstrip(".") for h in settings.ALLOWED_HOSTS if h and h != "*")
    public = urlsplit(settings.FSM_PUBLIC_BASE_URL).hostname
    if public:
        names.add(public.lower())
    return names


def _allowed_exceptions() -> tuple[set[str], list]:
    """(host names, networks) from FSM_OUTGOING_ALLOWED_HOSTS: deployments that relay through a
    gateway on this machine or their own network list it there (and tests do)."""
    names, networks = set(), []
    for entry in getattr(settings, "FSM_OUTGOING_ALLOWED_HOSTS", []):
        entry = entry.strip().lower().strip("[]")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return names, networks


def _listed(ip: IPAddress, networks: list) -> bool:
    return any(ip.version == network.version and ip in network for network in networks)


def _parse_address(address: str) -> IPAddress:
    return ipaddress.ip_address(address.split("%")[0])


@dataclass
class Target:
    """A checked destination: the URL's parts and the addresses that may be connected to."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: list[str]


def check_target(url: str, *, field: str = "url") -> Target:
    """Resolve the URL's host once and check every address. Raises ValidationError on `field`."""
    url = (url or "").strip()
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in {"http", "https"} or not parts.hostname or port == -1:
        raise field_error(field, _("Enter an http:// or https:// address."), "invalid")
    host = parts.hostname.lower().rstrip(".")
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    names, networks = _allowed_exceptions()
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    host_allowed = host in names or (literal is not None and _listed(literal, networks))
    if not host_allowed and host in _own_host_names():
        raise field_error(field, _("This address points to this server itself."), "self_target")
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError):
            addresses = []
        if not addresses:
            raise field_error(field, _("The host name %(host)s cannot be resolved.") % {"host": host}, "unresolvable")
    if not host_allowed:
        for address in addresses:
            ip = _parse_address(address)
            if is_public_address(ip) or _listed(ip, networks):
                continue
            if ip.is_loopback or ip.is_unspecified or ip.is_link_local:
                raise field_error(field, _("This address points to this server itself."), "self_target")
            raise field_error(
                field,
                _(
                    "This address is on a private or reserved network (%(address)s); only public addresses "
                    "can be reached."
                )
                % {"address": ip},
                "private_target",
            )
    return Target(scheme=parts.scheme, host=host, port=port, path=path, addresses=addresses)


def check_outgoing_url(url: str, *, field: str = "url") -> str:
    """The address a notification or webhook may be sent to: http(s), with a host that is not this
    server nor any other non-public address. Raises ValidationError on `field`."""
    check_target(url, field=field)
    return (url or "").strip()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _pinned_connection(target: Target, address: str, timeout: float) -> http.client.HTTPConnection:
    """A connection to `address` that still speaks to `target.host` (Host header, TLS name and
    certificate check), so the name is never resolved a second time."""
    cls = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    connection = cls(target.host, target.port, timeout=timeout)

    def create_connection(_host_port, timeout, source_address=None):
        return open_socket(address, target.port, timeout, source_address)

    connection._create_connection = create_connection
    return connection


def _cut(sock) -> None:
    # Called by the watchdog at the deadline: a receiver that sends its answer a byte at a
    # time would otherwise hold the worker for as long as it likes, each read within the
    # socket timeout. Shutting the socket down wakes the blocked read with an error.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def post_signed(
    url: str, payload: dict, *, secret: str, event: str, delivery_id: str, timeout: float | None = None
) -> Response:
    """POST `payload` as JSON, signed. Raises DeliveryError unless the receiver answers 2xx.
    The address is checked again here: a name may resolve elsewhere than when it was saved. A
    redirect (3xx) is an answer like any other non-2xx: it is not followed.

    `timeout` is the deadline of the whole attempt (FSM_DELIVERY_DEADLINE_SECONDS by default):
    connecting (at most FSM_DELIVERY_CONNECT_SECONDS), sending and reading the answer."""
    timeout = timeout or settings.FSM_DELIVERY_DEADLINE_SECONDS
    deadline = time.monotonic() + timeout
    try:
        target = check_target(url)
    except ValidationError as error:
        raise DeliveryError("; ".join(error.messages)) from None
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "fieldservice-webhook/1",
        "X-FSM-Event": event,
        "X-FSM-Delivery": delivery_id,
        "X-FSM-Timestamp": timestamp,
        "X-FSM-Signature": sign(secret, timestamp, body) if secret else "",
    }
    last_error: Exception | None = None
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        connection = _pinned_connection(target, address, min(settings.FSM_DELIVERY_CONNECT_SECONDS, remaining))
        watchdog = None
        try:
            connection.connect()
            remaining = max(deadline - time.monotonic(), 0.001)
            connection.sock.settimeout(remaining)
            watchdog = threading.Timer(remaining, _cut, (connection.sock,))
            watchdog.daemon = True
            watchdog.start()
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read(2000).decode(errors="replace")
        except (OSError, http.client.HTTPException) as error:
            last_error = error
            if time.monotonic() >= deadline:
                last_error = TimeoutError(_("no complete answer within %(seconds)g s") % {"seconds": timeout})
            continue
        finally:
            if watchdog is not None:
                watchdog.cancel()
            connection.close()
        if 200 <= response.status < 300:
            return Response(status=response.status, body=text)
        raise DeliveryError(f"HTTP {response.status}: {text[:500]}", status=response.status)
    if last_error is None:
        last_error = TimeoutError(_("no complete answer within %(seconds)g s") % {"seconds": timeout})
    raise DeliveryError(f"{type(last_error).__name__}: {last_error}")
