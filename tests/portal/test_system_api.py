"""The API for administrative software: system certificates only, from allowed addresses."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AuditEntry
from ca.models import RevocationReason
from enrollment.models import Enrollment, Holder, RefusedAddress
from tests.enrollment.factories import issue_holder

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _behind_nginx(settings: Any) -> None:
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]


def call(
    client: Client,
    path: str,
    certificate: x509.Certificate | None,
    from_address: str = "192.0.2.10",
) -> Any:
    headers: dict[str, Any] = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": from_address}
    if certificate is not None:
        pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        headers.update(HTTP_X_CLIENT_VERIFY="SUCCESS", HTTP_X_CLIENT_CERT=quote(pem))
    return client.get(path, **headers)


@pytest.fixture
def system_holder() -> Holder:
    holder, _pin = issue_holder(
        "system", name="Praktijksoftware", allowed_networks="192.0.2.0/24\n2001:db8::/48"
    )
    return holder


def test_whoami_answers_a_system_certificate_from_an_allowed_address(
    client: Client, system_holder: Holder, issue: Callable[..., x509.Certificate]
) -> None:
    certificate = issue(system_holder)
    data = call(client, "/api/v1/system/whoami", certificate).json()
    assert data["user_number"] == system_holder.user_number
    assert data["organisation"] == system_holder.organisation.name
    assert data["address"] == "192.0.2.10"
    assert AuditEntry.objects.filter(event="certificate_used").exists()


def test_ipv6_ranges_are_honoured(
    client: Client, system_holder: Holder, issue: Callable[..., x509.Certificate]
) -> None:
    certificate = issue(system_holder)
    assert call(client, "/api/v1/system/whoami", certificate, "2001:db8::7").status_code == 200
    assert call(client, "/api/v1/system/whoami", certificate, "2001:db9::7").status_code == 403


def test_another_address_is_refused_recorded_and_can_be_allowed_by_an_admin(
    client: Client, system_holder: Holder, issue: Callable[..., x509.Certificate]
) -> None:
    certificate = issue(system_holder)
    for _attempt in range(2):
        response = call(client, "/api/v1/system/whoami", certificate, "198.51.100.4")
        assert (response.status_code, response.json()["code"]) == (403, "address_not_allowed")
    refused = RefusedAddress.objects.get()
    assert (refused.address, refused.attempts) == ("198.51.100.4", 2)
    assert AuditEntry.objects.filter(event="access_refused").count() == 2

    admin = User.objects.create_superuser("beheer", "b@example.org", "x")
    admin_client = Client()
    admin_client.force_login(admin)
    listing = admin_client.get("/admin/enrollment/refusedaddress/").content.decode()
    assert (
        "198.51.100.4" in listing
        and f"/admin/enrollment/refusedaddress/{refused.pk}/allow/" in listing
    )
    admin_client.post(f"/admin/enrollment/refusedaddress/{refused.pk}/allow/")
    assert call(client, "/api/v1/system/whoami", certificate, "198.51.100.4").status_code == 200


def test_personal_certificates_are_refused(
    client: Client, issue: Callable[..., x509.Certificate]
) -> None:
    holder, _pin = issue_holder("personal")
    response = call(client, "/api/v1/system/whoami", issue(holder))
    assert (response.status_code, response.json()["code"]) == (403, "personal_certificate")


def test_revoked_certificates_and_blocked_holders_are_refused(
    client: Client, system_holder: Holder, issue: Callable[..., x509.Certificate]
) -> None:
    certificate = issue(system_holder)
    system_holder.block(actor="test")
    assert call(client, "/api/v1/system/whoami", certificate).json()["code"] == "holder_blocked"
    system_holder.unblock(actor="test")
    Enrollment.objects.get(holder=system_holder).certificate.revoke(
        RevocationReason.KEY_COMPROMISE, actor="test"
    )
    assert (
        call(client, "/api/v1/system/whoami", certificate).json()["code"] == "certificate_revoked"
    )


def test_without_a_certificate_or_directly_without_nginx_it_is_401(client: Client) -> None:
    response = call(client, "/api/v1/system/whoami", None)
    assert (response.status_code, response.json()["code"]) == (401, "no_client_certificate")


def test_the_organisation_certificate_list_shows_each_status(
    client: Client, system_holder: Holder, issue: Callable[..., x509.Certificate]
) -> None:
    certificate = issue(system_holder)
    colleague, _pin = issue_holder(
        "personal", name="B. Bakker", organisation=system_holder.organisation
    )
    issue(colleague)
    Enrollment.objects.get(holder=colleague).certificate.revoke(
        RevocationReason.SUPERSEDED, actor="test"
    )
    data = call(client, "/api/v1/system/certificates", certificate).json()
    statuses = {row["name"]: row["status"] for row in data["certificates"]}
    assert statuses == {"Praktijksoftware": "valid", "B. Bakker": "revoked"}


def test_blocking_a_holder_puts_the_certificates_on_hold_and_unblocking_releases_them(
    system_holder: Holder, issue: Callable[..., x509.Certificate]
) -> None:
    issue(system_holder)
    certificate = Enrollment.objects.get(holder=system_holder).certificate
    system_holder.block(actor="test")
    certificate.refresh_from_db()
    assert certificate.revocation_reason == RevocationReason.CERTIFICATE_HOLD
    system_holder.unblock(actor="test")
    certificate.refresh_from_db()
    assert not certificate.is_revoked
