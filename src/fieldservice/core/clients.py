"""The client's address of a request, believing X-Forwarded-For only from a trusted proxy."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().split("%")[0])
    except ValueError:
        return False
    return any(ip.version == network.version and ip in network for network in settings.FSM_TRUSTED_PROXIES)


def client_address(request) -> str | None:
    """REMOTE_ADDR, or, when that is one of FSM_TRUSTED_PROXIES, the nearest X-Forwarded-For entry
    that is not a trusted proxy: entries further left were written by the client and prove nothing."""
    remote = (request.META.get("REMOTE_ADDR") or "").strip() or None
    if remote is None or not _trusted(remote):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop.split("%")[0])
        except ValueError:
            return remote  # a garbled header: fall back to the proxy itself rather than guess
        if not _trusted(hop):
            return hop
    return remote
