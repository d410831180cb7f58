"""The address of the client, as far as it can be trusted.

Behind nginx the TCP peer is the proxy; the client is the last address that a *trusted*
proxy appended to X-Forwarded-For. Entries further left were written by the client itself
and are never believed, so a forged header cannot change whose rate limit is counted.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)


def client_address(request: HttpRequest) -> str:
    peer = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - a value, not a bind
    if not is_trusted_proxy(peer):
        return peer
    forwarded = [
        a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()
    ]
    for address in reversed(forwarded):
        if not is_trusted_proxy(address):
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                return peer
    return peer


def ratelimit_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit key function: one bucket per trusted client address."""
    return client_address(request)
