"""The client certificate a request came with, from one of two sources.

- **The TLS connection** (`make run`'s embedded HTTPS server, config/embedded_server.py):
  the server verified the certificate against the portal's CA and checked the portal's own
  records for revocation, and put the result in the WSGI environ under mod_ssl's names
  (SSL_CLIENT_VERIFY, SSL_CLIENT_CERT; PEP 3333 allows them). Only the server writes environ
  keys without the HTTP_ prefix, so a client cannot claim them with a header.
- **nginx's headers** (production): nginx terminates TLS and always overwrites them (see
  deploy/nginx); Django believes them only from nginx itself
  (core.client_address.from_trusted_proxy: a TRUSTED_PROXIES address with the proxy secret),
  so anything else that can reach web — a client talking to Django directly, another
  container — cannot claim a certificate.

Either way the answer is a ``ClientCertificate``: the state in nginx's and mod_ssl's words
(SUCCESS, NONE, FAILED:<reason>) and the certificate when it was verified.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from urllib.parse import unquote

from cryptography import x509
from django.http import HttpRequest

from core.client_address import PROXY_SECRET_HEADER, from_trusted_proxy, is_trusted_proxy

# Written by the embedded HTTPS server (mod_ssl's names), never by a client.
TLS_VERIFY = "SSL_CLIENT_VERIFY"
TLS_CERTIFICATE = "SSL_CLIENT_CERT"
# Written by nginx, believed only from nginx.
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


@dataclass(frozen=True)
class ClientCertificate:
    """What the connection says of the client's certificate."""

    state: str  # SUCCESS, NONE or FAILED:<reason>
    certificate: x509.Certificate | None = None


NO_CERTIFICATE = ClientCertificate("NONE")


def _parsed(state: str, pem: str) -> ClientCertificate:
    if state != "SUCCESS":
        return ClientCertificate(state or "NONE")
    try:
        return ClientCertificate(state, x509.load_pem_x509_certificate(pem.encode()))
    except ValueError:
        return ClientCertificate("FAILED:unreadable certificate")


def from_tls_connection(request: HttpRequest) -> ClientCertificate:
    return _parsed(request.META[TLS_VERIFY], request.META.get(TLS_CERTIFICATE, ""))


def from_proxy_headers(request: HttpRequest) -> ClientCertificate:
    if not from_trusted_proxy(request):
        _log_forged_claim(request)
        return NO_CERTIFICATE
    return _parsed(
        request.META.get(VERIFY_HEADER, "NONE"), unquote(request.META.get(CERTIFICATE_HEADER, ""))
    )


def client_certificate(request: HttpRequest) -> ClientCertificate:
    """The request's client certificate: from the TLS connection when this process
    terminated TLS itself, otherwise from nginx's headers. Worked out once per request."""
    known: ClientCertificate | None = getattr(request, "_client_certificate", None)
    if known is None:
        if TLS_VERIFY in request.META:
            # Headers claiming a certificate mean nothing here; say so as nginx's path does.
            _log_forged_claim(request)
            known = from_tls_connection(request)
        else:
            known = from_proxy_headers(request)
        request._client_certificate = known  # type: ignore[attr-defined]
    return known


def verification_state(request: HttpRequest) -> str:
    """SUCCESS, NONE, or FAILED:<reason> (nginx's $ssl_client_verify, mod_ssl's
    SSL_CLIENT_VERIFY)."""
    return client_certificate(request).state


def verified_certificate(request: HttpRequest) -> x509.Certificate | None:
    return client_certificate(request).certificate
