"""core/client_certificate.py: one answer from two sources, the TLS connection (`make run`'s
embedded server) and nginx's headers (production), and neither can be claimed by a client."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.test import RequestFactory

from core import client_certificate as client_certificate_module
from core.client_certificate import ClientCertificate, client_certificate
from enrollment.models import Holder
from tests.fixtures.login import PASSWORD, Browser, code, first_login


def pem_of(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture
def certificate(issued: Callable[..., tuple[Holder, x509.Certificate]]) -> x509.Certificate:
    return issued()[1]


def test_the_tls_connection_gives_the_certificate_the_server_verified(
    certificate: x509.Certificate,
) -> None:
    request = RequestFactory().get(
        "/", SSL_CLIENT_VERIFY="SUCCESS", SSL_CLIENT_CERT=pem_of(certificate)
    )
    assert client_certificate(request) == ClientCertificate("SUCCESS", certificate)


def test_the_tls_connections_refusal_is_passed_on_with_its_reason() -> None:
    request = RequestFactory().get("/", SSL_CLIENT_VERIFY="FAILED:certificate revoked")
    assert client_certificate(request) == ClientCertificate("FAILED:certificate revoked")


def test_on_the_tls_connection_headers_claiming_a_certificate_mean_nothing(
    certificate: x509.Certificate,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The warning comes once per peer every five minutes; an earlier test of this process
    # may have had it for 127.0.0.1.
    monkeypatch.setattr(client_certificate_module, "_last_logged", {})
    # Even from an address nginx would have: this process terminated TLS itself.
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    request = RequestFactory().get(
        "/",
        REMOTE_ADDR="127.0.0.1",
        SSL_CLIENT_VERIFY="NONE",
        HTTP_X_CLIENT_VERIFY="SUCCESS",
        HTTP_X_CLIENT_CERT=quote(pem_of(certificate)),
    )
    assert client_certificate(request) == ClientCertificate("NONE")
    assert "X-Client-Verify" in caplog.text


def test_nginx_headers_are_believed_only_from_nginx(
    certificate: x509.Certificate, settings: Any
) -> None:
    headers: dict[str, Any] = {
        "HTTP_X_CLIENT_VERIFY": "SUCCESS",
        "HTTP_X_CLIENT_CERT": quote(pem_of(certificate)),
    }
    stranger = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7", **headers)
    assert client_certificate(stranger) == ClientCertificate("NONE")
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    nginx = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", **headers)
    assert client_certificate(nginx) == ClientCertificate("SUCCESS", certificate)


def test_an_unreadable_certificate_is_a_failure_not_a_success() -> None:
    request = RequestFactory().get("/", SSL_CLIENT_VERIFY="SUCCESS", SSL_CLIENT_CERT="garbage")
    assert client_certificate(request).state.startswith("FAILED:")
    assert client_certificate(request).certificate is None


class TlsBrowser(Browser):
    """A browser talking to the embedded HTTPS server: the certificate in the environ."""

    def __init__(self, certificate: x509.Certificate) -> None:
        super().__init__(None)
        self.headers.update(SSL_CLIENT_VERIFY="SUCCESS", SSL_CLIENT_CERT=pem_of(certificate))


def test_a_holder_logs_in_and_reaches_the_dashboard_over_the_tls_source(
    issued: Callable[..., tuple[Holder, x509.Certificate]], clock: Any
) -> None:
    holder, certificate = issued()
    browser = TlsBrowser(certificate)
    secret = first_login(browser, holder, clock)
    assert browser.get("/mijn/").status_code == 200
    browser.post("/uitloggen/", {})
    clock.shift(31)  # the next code: one is never accepted twice
    again = browser.post(
        "/inloggen/",
        {"user_number": holder.user_number, "password": PASSWORD, "code": code(secret)},
    )
    assert again.status_code == 302 and again["Location"] == "/mijn/"
