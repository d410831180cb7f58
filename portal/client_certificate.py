"""The client certificate that nginx verified, as it passes it on in request headers.

nginx terminates TLS and always overwrites these headers (see deploy/nginx); Django believes
them only from a configured proxy address, so a client talking to Django directly cannot
claim a certificate.
"""

from __future__ import annotations

from urllib.parse import unquote

from cryptography import x509
from django.http import HttpRequest

from portal.client_address import is_trusted_proxy

VERIFY_HEADER = "HTTP_X_CLIENT_VERIFY"
CERTIFICATE_HEADER = "HTTP_X_CLIENT_CERT"


def verification_state(request: HttpRequest) -> str:
    """nginx's $ssl_client_verify: SUCCESS, NONE, or FAILED:<reason>; NONE when not via a proxy."""
    if not is_trusted_proxy(request.META.get("REMOTE_ADDR", "")):
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
