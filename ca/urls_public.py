"""The public addresses written into certificates (CRL distribution point, AIA).

Plain HTTP is right for these when PORTAL_URL is http; RFC 5280 prefers HTTP over HTTPS for
revocation data anyway, because fetching it over TLS can need the very status being fetched.
"""

from __future__ import annotations

from django.conf import settings


def crl_url(slug: str) -> str:
    return f"{settings.PORTAL_URL}/crl/{slug}.crl"


def ca_certificate_url(slug: str) -> str:
    return f"{settings.PORTAL_URL}/ca/{slug}.crt"


def ocsp_url() -> str:
    return f"{settings.PORTAL_URL}/ocsp"


def cps_url() -> str:
    return f"{settings.PORTAL_URL}/cps/"
