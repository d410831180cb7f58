"""The address of the client, as far as it can be trusted, and whether nginx sent the request.

Behind nginx the TCP peer is the proxy; the client is the last address that a *trusted*
proxy appended to X-Forwarded-For. Entries further left were written by the client itself
and are never believed, so a forged header cannot change whose rate limit is counted.

A trusted proxy is an address in TRUSTED_PROXIES that also knows PROXY_SECRET (when one is
set). The address alone is not enough: in docker compose every web container and the
network's gateway share nginx's network, and only nginx has been given the secret
(deploy/nginx/proxy-secret.sh).

The same goes for X-Forwarded-Proto, which Django believes (SECURE_PROXY_SSL_HEADER) to
tell whether the client spoke HTTPS: ``ForwardedProtoMiddleware`` drops it from anyone but
nginx, so that a client reaching web directly cannot claim TLS it did not use.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# nginx sends PROXY_SECRET in this header on every proxied request.
PROXY_SECRET_HEADER = "HTTP_X_PROXY_SECRET"  # noqa: S105 - a header name
FORWARDED_PROTO_HEADER = "HTTP_X_FORWARDED_PROTO"


def is_trusted_proxy(address: str) -> bool:
    """Whether ``address`` lies in TRUSTED_PROXIES; the address test of from_trusted_proxy."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)


def from_trusted_proxy(request: HttpRequest) -> bool:
    """True only for a request that nginx forwarded: its peer is in TRUSTED_PROXIES and, when
    PROXY_SECRET is set, it carries the secret. Only such a request may name the client
    (X-Forwarded-For) or its certificate (X-Client-Verify, X-Client-Cert)."""
    if not is_trusted_proxy(request.META.get("REMOTE_ADDR", "")):
        return False
    secret: str = settings.PROXY_SECRET
    if not secret:
        return True
    offered = request.META.get(PROXY_SECRET_HEADER, "")
    # Constant time, so the answer's timing tells a caller nothing about how much it guessed.
    # Bytes, because compare_digest refuses a str with non-ASCII characters.
    return hmac.compare_digest(offered.encode("utf-8", "replace"), secret.encode())


def client_address(request: HttpRequest) -> str:
    peer = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - a value, not a bind
    if not from_trusted_proxy(request):
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


class ForwardedProtoMiddleware:
    """X-Forwarded-Proto counts only when nginx sent it (first in MIDDLEWARE, before
    anything asks ``request.is_secure()``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if FORWARDED_PROTO_HEADER in request.META and not from_trusted_proxy(request):
            del request.META[FORWARDED_PROTO_HEADER]
        return self.get_response(request)
