"""Only nginx vouches for a client certificate: a TRUSTED_PROXIES address with the proxy secret.

Anything else that reaches web with nginx's headers (another container, the Docker host) is
treated as a client without a certificate, and its X-Forwarded-For as its own words.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.test import Client, RequestFactory

from core import checks, client_certificate
from core.client_address import client_address, from_trusted_proxy
from core.client_certificate import verified_certificate
from enrollment.models import Holder
from tests.enrollment.factories import issue_holder
from tests.fixtures.production import manage

SECRET = secrets.token_urlsafe(32)
NGINX = "172.28.1.2"  # an address of the edge network
OTHER = "172.28.0.7"  # a container of the backend network: redis, a worker


@pytest.fixture(autouse=True)
def _edge(settings: Any) -> None:
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("172.28.1.0/24")]
    settings.PROXY_SECRET = SECRET
    client_certificate._last_logged.clear()


def headers(
    issued: x509.Certificate, peer: str, secret: str | None, **extra: str
) -> dict[str, Any]:
    pem = issued.public_bytes(serialization.Encoding.PEM).decode()
    meta: dict[str, Any] = {
        "REMOTE_ADDR": peer,
        "HTTP_X_CLIENT_VERIFY": "SUCCESS",
        "HTTP_X_CLIENT_CERT": quote(pem),
        **extra,
    }
    if secret is not None:
        meta["HTTP_X_PROXY_SECRET"] = secret
    return meta


def a_request(**meta: Any) -> Any:
    return RequestFactory().get("/", **meta)


def test_only_a_trusted_address_with_the_secret_is_nginx() -> None:
    assert from_trusted_proxy(a_request(REMOTE_ADDR=NGINX, HTTP_X_PROXY_SECRET=SECRET))
    assert not from_trusted_proxy(a_request(REMOTE_ADDR=NGINX))
    assert not from_trusted_proxy(a_request(REMOTE_ADDR=NGINX, HTTP_X_PROXY_SECRET=SECRET[:-1]))
    assert not from_trusted_proxy(a_request(REMOTE_ADDR=NGINX, HTTP_X_PROXY_SECRET="é" + SECRET))
    assert not from_trusted_proxy(a_request(REMOTE_ADDR=OTHER, HTTP_X_PROXY_SECRET=SECRET))


def test_without_a_configured_secret_the_address_alone_decides(settings: Any) -> None:
    # make run and tests: no nginx secret; production refuses this (portal.E010).
    settings.PROXY_SECRET = ""
    assert from_trusted_proxy(a_request(REMOTE_ADDR=NGINX))
    assert not from_trusted_proxy(a_request(REMOTE_ADDR=OTHER))


def test_the_secret_is_compared_in_constant_time() -> None:
    with mock.patch("core.client_address.hmac.compare_digest", wraps=hmac.compare_digest) as cmp:
        assert not from_trusted_proxy(a_request(REMOTE_ADDR=NGINX, HTTP_X_PROXY_SECRET="guess"))
    cmp.assert_called_once_with(b"guess", SECRET.encode())


def test_x_forwarded_for_is_believed_only_from_nginx() -> None:
    forwarded = {"HTTP_X_FORWARDED_FOR": "192.0.2.10"}
    assert client_address(
        a_request(REMOTE_ADDR=NGINX, HTTP_X_PROXY_SECRET=SECRET, **forwarded)
    ) == ("192.0.2.10")
    assert client_address(a_request(REMOTE_ADDR=NGINX, **forwarded)) == NGINX
    assert client_address(a_request(REMOTE_ADDR=OTHER, **forwarded)) == OTHER


def test_the_certificate_is_honoured_from_nginx_with_the_right_secret(
    issue: Callable[[Holder], x509.Certificate],
) -> None:
    holder, _pin = issue_holder("personal")
    issued = issue(holder)
    assert verified_certificate(a_request(**headers(issued, NGINX, SECRET))) == issued
    for peer, secret in ((NGINX, None), (NGINX, "x" * 43), (OTHER, SECRET), (OTHER, None)):
        assert verified_certificate(a_request(**headers(issued, peer, secret))) is None


def test_login_with_a_certificate_from_another_address_or_without_the_secret_fails(
    client: Client, issue: Callable[[Holder], x509.Certificate]
) -> None:
    holder, _pin = issue_holder("personal")
    issued = issue(holder)
    assert client.get("/inloggen/", **headers(issued, NGINX, SECRET)).status_code == 200
    for peer, secret in ((NGINX, None), (NGINX, "wrong"), (OTHER, SECRET)):
        response = client.get("/inloggen/", **headers(issued, peer, secret))
        assert (response.status_code, response.context["problem"]) == (403, "none"), peer


def test_the_system_api_never_takes_another_containers_word_for_certificate_or_address(
    client: Client, issue: Callable[[Holder], x509.Certificate]
) -> None:
    holder, _pin = issue_holder("system", name="Praktijksoftware", allowed_networks="192.0.2.0/24")
    issued = issue(holder)
    allowed: dict[str, Any] = {"HTTP_X_FORWARDED_FOR": "192.0.2.10"}
    ok = client.get("/api/v1/system/whoami", **headers(issued, NGINX, SECRET, **allowed))
    assert (ok.status_code, ok.json()["address"]) == (200, "192.0.2.10")
    for peer, secret in ((NGINX, None), (OTHER, SECRET), (OTHER, None)):
        refused = client.get("/api/v1/system/whoami", **headers(issued, peer, secret, **allowed))
        assert (refused.status_code, refused.json()["code"]) == (401, "no_client_certificate")


def test_a_forged_claim_is_logged_once_per_address_without_the_certificate(
    caplog: pytest.LogCaptureFixture, issue: Callable[[Holder], x509.Certificate]
) -> None:
    holder, _pin = issue_holder("personal")
    issued = issue(holder)
    forged = headers(issued, OTHER, SECRET)
    with caplog.at_level(logging.WARNING, logger="core.client_certificate"):
        for _ in range(5):
            verified_certificate(a_request(**forged))
        verified_certificate(a_request(**headers(issued, NGINX, "guessed-0123456789")))
    lines = [r.getMessage() for r in caplog.records if r.name == "core.client_certificate"]
    assert len(lines) == 2
    assert OTHER in lines[0] and "TRUSTED_PROXIES" in lines[0]
    assert NGINX in lines[1] and "proxy secret" in lines[1]
    text = "\n".join(lines)
    assert "BEGIN CERTIFICATE" not in text and forged["HTTP_X_CLIENT_CERT"][30:60] not in text
    assert SECRET not in text and "guessed-0123456789" not in text


def test_a_request_id_is_kept_only_from_nginx(client: Client, db: None) -> None:
    offered: dict[str, Any] = {"HTTP_X_REQUEST_ID": "nginx-abcdef123456"}
    kept = client.get("/healthz", REMOTE_ADDR=NGINX, HTTP_X_PROXY_SECRET=SECRET, **offered)
    assert kept["X-Request-ID"] == "nginx-abcdef123456"
    assert client.get("/healthz", REMOTE_ADDR=NGINX, **offered)["X-Request-ID"] != (
        "nginx-abcdef123456"
    )


@pytest.mark.parametrize(
    ("peer", "with_secret", "believed"),
    [(NGINX, True, True), (NGINX, False, False), (OTHER, True, False), (OTHER, False, False)],
)
def test_x_forwarded_proto_https_is_believed_only_from_nginx(
    client: Client, db: None, peer: str, with_secret: bool, believed: bool
) -> None:
    meta: dict[str, Any] = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_PROTO": "https"}
    if with_secret:
        meta["HTTP_X_PROXY_SECRET"] = SECRET
    # EST answers only over HTTPS: a direct client's claim of TLS is not taken.
    answer = client.post(
        "/.well-known/est/simpleenroll", b"", content_type="application/pkcs10", **meta
    )
    assert answer.status_code == 401 if believed else answer.status_code == 403
    assert ("tls_required" in answer.content.decode()) is not believed


# --- System checks ----------------------------------------------------------------------


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


def test_production_with_trusted_proxies_needs_a_proxy_secret_e010(settings: Any) -> None:
    settings.PRODUCTION = True
    settings.PROXY_SECRET = ""
    (error,) = checks.proxy_secret_required(None)
    assert error.id == "portal.E010" and "PROXY_SECRET_FILE" in (error.hint or "")
    settings.PROXY_SECRET = SECRET
    assert checks.proxy_secret_required(None) == []
    settings.PROXY_SECRET, settings.TRUSTED_PROXIES = "", []
    assert checks.proxy_secret_required(None) == []
    settings.PRODUCTION, settings.TRUSTED_PROXIES = False, [ipaddress.ip_network("127.0.0.1/32")]
    assert checks.proxy_secret_required(None) == []


@pytest.mark.parametrize(
    "secret",
    ["a" * 31, "a" * 257, "a" * 40 + '"', "a" * 40 + ";", "a" * 40 + "+/=", " " + "a" * 40],
)
def test_a_short_or_unsafe_proxy_secret_is_e011_and_never_shown(settings: Any, secret: str) -> None:
    settings.PROXY_SECRET = secret
    (error,) = checks.proxy_secret_valid(None)
    assert error.id == "portal.E011"
    assert secret not in error.msg + (error.hint or "")


# Named, so that every pytest-xdist process collects the same tests from the random values.
@pytest.mark.parametrize(
    "secret",
    [secrets.token_hex(16), secrets.token_urlsafe(32), "A-_z" * 64],
    ids=["token_hex", "token_urlsafe", "long"],
)
def test_hex_and_base64url_secrets_pass(settings: Any, secret: str) -> None:
    settings.PROXY_SECRET = secret
    assert checks.proxy_secret_valid(None) == []


@pytest.mark.parametrize(
    ("networks", "warned"),
    [
        (["172.28.1.0/24"], False),
        (["10.0.0.5/32", "fd00:1::/64"], False),
        (["172.16.0.0/12"], True),
        (["0.0.0.0/0"], True),
        (["fd00::/48"], True),
    ],
)
def test_trusted_proxies_wider_than_one_network_is_w010(
    settings: Any, networks: list[str], warned: bool
) -> None:
    settings.TRUSTED_PROXIES = [ipaddress.ip_network(n) for n in networks]
    assert ids(checks.trusted_proxies_narrow(None)) == (["portal.W010"] if warned else [])


def test_a_proxy_secret_without_trusted_proxies_is_w011(settings: Any) -> None:
    settings.TRUSTED_PROXIES = []
    assert ids(checks.proxy_secret_without_proxies(None)) == ["portal.W011"]
    settings.PROXY_SECRET = ""
    assert checks.proxy_secret_without_proxies(None) == []


def test_redirecting_to_https_without_trusted_proxies_is_w012(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.TRUSTED_PROXIES = []
    assert ids(checks.https_redirect_without_proxies(None)) == ["portal.W012"]
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("172.28.1.0/24")]
    assert checks.https_redirect_without_proxies(None) == []


def test_web_does_not_start_with_trusted_proxies_but_no_secret_file(tmp_path: Path) -> None:
    edge = {"TRUSTED_PROXIES": "172.28.1.0/24"}
    refused = manage("check", extra_env=edge)
    assert refused.returncode != 0 and "portal.E010" in refused.stderr
    secret_file = tmp_path / "proxy_secret"
    secret_file.write_text(SECRET + "\n")
    started = manage("check", extra_env={**edge, "PROXY_SECRET_FILE": str(secret_file)})
    assert started.returncode == 0, started.stderr
