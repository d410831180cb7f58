"""A system holder with an issued certificate and its key, and a client that speaks EST the
way nginx hands it over (the proxy headers, from the trusted proxy); for the pages a contact
person sees, tests/fixtures/login.py's ``clock`` and ``issued``."""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.cache import cache
from django.test import Client

from ca.models import Certificate, CertificateAuthority
from enrollment.models import Enrollment, Holder, InstallCode
from tests.enrollment.factories import issue_holder
from tests.fixtures.ca import certificate_of, order_for
from tests.fixtures.login import clock, issued  # noqa: F401

ALLOWED = "192.0.2.10"
OUTSIDE = "198.51.100.4"


def csr_for(key: ec.EllipticCurvePrivateKey, subject: x509.Name | None = None) -> bytes:
    """A CSR in EST's form: base64 of the DER."""
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject or x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    return base64.encodebytes(request.public_bytes(serialization.Encoding.DER))


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


class Est:
    """POSTs and GETs as nginx passes them on: over HTTPS, from an address, with a verified
    client certificate or none."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def headers(self, certificate: x509.Certificate | None, source: str) -> dict[str, Any]:
        headers: dict[str, Any] = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": source}
        if certificate is not None:
            pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
            headers.update(HTTP_X_CLIENT_VERIFY="SUCCESS", HTTP_X_CLIENT_CERT=quote(pem))
        return headers

    def get(self, operation: str, *, secure: bool = True) -> Any:
        return self.client.get(f"/.well-known/est/{operation}", secure=secure)

    def post(
        self,
        operation: str,
        body: bytes,
        *,
        certificate: x509.Certificate | None = None,
        source: str = ALLOWED,
        content_type: str = "application/pkcs10",
        secure: bool = True,
        **extra: Any,
    ) -> Any:
        return self.client.post(
            f"/.well-known/est/{operation}",
            body,
            content_type=content_type,
            secure=secure,
            **self.headers(certificate, source),
            **extra,
        )


def certificates_in(response: Any) -> list[x509.Certificate]:
    from cryptography.hazmat.primitives.serialization import pkcs7

    assert response["Content-Type"] == "application/pkcs7-mime; smime-type=certs-only"
    return pkcs7.load_der_pkcs7_certificates(base64.b64decode(response.content))


@pytest.fixture
def est(client: Client, settings: Any) -> Est:
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    cache.clear()  # the rate limits start afresh
    return Est(client)


@dataclass
class SystemCertificate:
    holder: Holder
    enrollment: Enrollment
    record: Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def certificate(self) -> x509.Certificate:
        return self.record.certificate


@pytest.fixture
def system_enrollment(
    hierarchy: CertificateAuthority, make_enrollment: Callable[..., Enrollment]
) -> Callable[[], tuple[Enrollment, str]]:
    """A system enrollment waiting for its key, and its install code in clear."""

    def make() -> tuple[Enrollment, str]:
        holder, _pin = issue_holder(
            "system", name="Praktijksoftware", allowed_networks="192.0.2.0/24"
        )
        enrollment = make_enrollment(kind="system", holder=holder)
        return enrollment, InstallCode.objects.mint(enrollment)

    return make


@pytest.fixture
def system_certificate(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> Callable[..., SystemCertificate]:
    """A system holder (allowed from 192.0.2.0/24) with an issued, installed certificate."""

    def make(
        kind: str = "system", *, name: str = "Praktijksoftware", organisation: Any = None
    ) -> SystemCertificate:
        networks = "192.0.2.0/24" if kind == "system" else ""
        holder, _pin = issue_holder(
            kind, name=name, allowed_networks=networks, organisation=organisation
        )
        enrollment = make_enrollment(kind=kind, holder=holder)
        key = new_key()
        with django_capture_on_commit_callbacks(execute=True):
            order_for(enrollment, base64.b64decode(csr_for(key)))
        record = certificate_of(enrollment)
        enrollment.mark_installed()
        return SystemCertificate(holder, enrollment, record, key)

    return make
