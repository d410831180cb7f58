"""The client certificate that nginx verified, as it passes it on in request headers.

nginx terminates TLS and always overwrites these headers (see deploy/nginx); Django believes
them only from nginx itself (core.client_address.from_trusted_proxy: a TRUSTED_PROXIES
address with the proxy secret), so anything else that can reach web — a client talking to
Django directly, another container — cannot claim a certificate.
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import unquote

from cryptography import x509
from django.http import HttpRequest

from core.client_address import PROXY_SECRET_HEADER, from_trusted_proxy, is_trusted_proxy

VERIFY_HEADER = "HTTP_X_CLIENT_VERIFY"
CERTIFICATE_HEADER = "HTTP_X_CLIENT_CERT"
_CLAIM_HEADERS = {
    VERIFY_HEADER: "X-Client-Verify",
    CERTIFICATE_HEADER: "X-Client-Cert",
    PROXY_SECRET_HEADER: "X-Proxy-Secret",
}

logger = logging.getLogger(__name__)

# One warning per peer address per interval: a caller that repeats a forged header must not be
# able to fill the log, but the first attempt from each address is seen.
FORGED_LOG_INTERVAL = 300.0
_FORGED_LOG_PEERS = 1024
_last_logged: dict[str, float] = {}
_last_logged_lock = threading.Lock()


def _log_forged_claim(request: HttpRequest) -> None:
    present = [name for key, name in _CLAIM_HEADERS.items() if key in request.META]
    if not present:
        return
    peer = request.META.get("REMOTE_ADDR", "")
    now = time.monotonic()
    with _last_logged_lock:
        last = _last_logged.get(peer)
        if last is not None and now - last < FORGED_LOG_INTERVAL:
            return
        if len(_last_logged) >= _FORGED_LOG_PEERS:
            _last_logged.clear()  # bounded memory; at worst an address is logged again early
        _last_logged[peer] = now
    # The header names only: the certificate is a person's, the secret is a secret.
    logger.warning(
        "client-certificate headers from %s (%s) ignored: %s; only nginx may send them",
        peer,
        ", ".join(present),
        "wrong or missing proxy secret"
        if is_trusted_proxy(peer)
        else "address not in TRUSTED_PROXIES",
        extra={"peer": peer, "path": request.path},
    )


def verification_state(request: HttpRequest) -> str:
    """nginx's $ssl_client_verify: SUCCESS, NONE, or FAILED:<reason>; NONE when not via nginx."""
    if not from_trusted_proxy(request):
        _log_forged_claim(request)
        return "NONE"
    return request.META.get(VERIFY_HEADER, "NONE") or "NONE"


def verified_certificate(request: HttpRequest) -> x509.Certificate | None:
    if verification_state(request) != "SUCCESS":
        return None
    pem = unquote(request.META.get(CERTIFICATE_HEADER, ""))
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return None
