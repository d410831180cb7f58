"""Logging in with certificate + user number + password + authenticator code, and the dashboard."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from ca.services import order_certificate
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP

from audit.models import AuditEntry
from ca.models import CertificateAuthority, RevocationReason
from enrollment.models import Enrollment, Holder, HolderStatus
from selfservice.models import HolderAccount
from tests.enrollment.factories import issue_holder, make_policy
from tests.fixtures.ca import fixture_bytes

pytestmark = pytest.mark.django_db
PASSWORD = "Zorg-Portaal7!"


@pytest.fixture(autouse=True)
def _behind_nginx(settings: Any) -> None:
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    cache.clear()


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


class Browser:
    """A browser behind nginx that presents one certificate."""

    def __init__(self, certificate: x509.Certificate | None) -> None:
        self.client = Client()
        self.headers: dict[str, Any] = {"REMOTE_ADDR": "127.0.0.1"}
        if certificate is not None:
            pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
            self.headers.update(HTTP_X_CLIENT_VERIFY="SUCCESS", HTTP_X_CLIENT_CERT=quote(pem))

    def get(self, path: str) -> Any:
        return self.client.get(path, **self.headers)

    def post(self, path: str, data: dict[str, Any]) -> Any:
        return self.client.post(path, data, **self.headers)


@pytest.fixture
def issued(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> Callable[..., tuple[Holder, x509.Certificate]]:
    def make(kind: str = "personal") -> tuple[Holder, x509.Certificate]:
        holder, _pin = issue_holder(kind)
        enrollment = make_enrollment(kind=kind, holder=holder)
        if kind == "personal":
            Enrollment.objects.filter(pk=enrollment.pk).update(
                password_hash=make_password(PASSWORD)
            )
        with django_capture_on_commit_callbacks(execute=True):
            order_certificate(enrollment, fixture_bytes("p256.pem"))
        enrollment.refresh_from_db()
        return holder, enrollment.certificate.certificate

    return make


def secret_from_setup_page(html: str) -> bytes:
    import base64

    key = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', html)
    assert key is not None
    text = key.group(1).replace(" ", "")
    return base64.b32decode(text + "=" * (-len(text) % 8))


def code(secret: bytes) -> str:
    return f"{TOTP(secret).token():06d}"


def first_login(browser: Browser, holder: Holder, clock: Any) -> bytes:
    response = browser.post("/inloggen/", {"user_number": holder.user_number, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/inloggen/authenticator/"
    setup = browser.get("/inloggen/authenticator/")
    secret = secret_from_setup_page(setup.content.decode())
    assert "<svg" in setup.content.decode()
    done = browser.post("/inloggen/authenticator/", {"code": code(secret)})
    assert done.status_code == 302 and done["Location"] == "/mijn/"
    return secret


def test_first_login_sets_up_the_authenticator_and_shows_the_dashboard(
    issued: Any, clock: Any
) -> None:
    holder, certificate = issued()
    browser = Browser(certificate)
    first_login(browser, holder, clock)
    dashboard = browser.get("/mijn/").content.decode()
    assert "Mijn certificaten" in dashboard and holder.user_number in dashboard
    assert AuditEntry.objects.filter(event="login").count() == 1


def test_the_authenticator_secret_is_encrypted_at_rest(issued: Any, clock: Any) -> None:
    holder, certificate = issued()
    secret = first_login(Browser(certificate), holder, clock)
    stored = bytes(HolderAccount.objects.get(holder=holder).totp_secret_encrypted or b"")
    assert secret not in stored


def test_later_logins_need_password_and_a_fresh_code(issued: Any, clock: Any) -> None:
    holder, certificate = issued()
    secret = first_login(Browser(certificate), holder, clock)
    browser = Browser(certificate)
    replay = browser.post(
        "/inloggen/",
        {"user_number": holder.user_number, "password": PASSWORD, "code": code(secret)},
    )
    assert replay.status_code == 200 and "niet juist" in replay.content.decode()
    clock.shift(timedelta(seconds=60))
    response = browser.post(
        "/inloggen/",
        {"user_number": holder.user_number, "password": PASSWORD, "code": code(secret)},
    )
    assert response.status_code == 302 and response["Location"] == "/mijn/"


def test_the_session_key_changes_at_login_and_logout_ends_it_on_the_server(
    issued: Any, clock: Any
) -> None:
    holder, certificate = issued()
    browser = Browser(certificate)
    browser.get("/inloggen/")
    browser.client.session.save()
    before = browser.client.session.session_key
    first_login(browser, holder, clock)
    after = browser.client.cookies["sessionid"].value
    assert before != after
    browser.post("/uitloggen/", {})
    assert not Session.objects.filter(session_key=after).exists()
    assert browser.get("/mijn/").status_code == 302


def test_the_user_number_must_match_the_certificate(issued: Any) -> None:
    _holder, certificate = issued()
    other, _pin = issue_holder("personal", name="Ander")
    response = Browser(certificate).post(
        "/inloggen/", {"user_number": other.user_number, "password": PASSWORD}
    )
    assert "hoort niet bij het certificaat" in response.content.decode()


def test_five_wrong_passwords_block_the_holder(issued: Any) -> None:
    holder, certificate = issued()
    browser = Browser(certificate)
    for _attempt in range(5):
        browser.post(
            "/inloggen/", {"user_number": holder.user_number, "password": "Wrong-Password1!"}
        )
    holder.refresh_from_db()
    assert holder.status == HolderStatus.BLOCKED and holder.block_reason == "login_attempts"
    response = browser.get("/inloggen/")
    assert response.status_code == 403 and "geblokkeerd" in response.content.decode()


@pytest.mark.parametrize("problem", ["none", "revoked", "system", "other_ca"])
def test_a_missing_revoked_system_or_foreign_certificate_gets_its_own_page(
    issued: Any, problem: str
) -> None:
    if problem == "none":
        browser = Browser(None)
    elif problem == "system":
        browser = Browser(issued("system")[1])
    elif problem == "other_ca":
        # nginx reports a certificate it could not verify against the portal's CA.
        browser = Browser(None)
        browser.headers.update(HTTP_X_CLIENT_VERIFY="FAILED:unable to get issuer certificate")
    else:
        holder, certificate = issued()
        Enrollment.objects.get(holder=holder).certificate.revoke(
            RevocationReason.KEY_COMPROMISE, actor="test"
        )
        browser = Browser(certificate)
    response = browser.get("/inloggen/")
    assert response.status_code == 403
    expected = {"none": "none", "revoked": "revoked", "system": "system", "other_ca": "invalid"}[
        problem
    ]
    assert f'data-problem="{expected}"' in response.content.decode()


def test_a_session_cannot_be_used_with_another_certificate(issued: Any, clock: Any) -> None:
    holder, certificate = issued()
    browser = Browser(certificate)
    first_login(browser, holder, clock)
    _other_holder, other_certificate = issued()
    thief = Browser(other_certificate)
    thief.client.cookies = browser.client.cookies
    assert thief.get("/mijn/").status_code == 302


def test_the_holder_can_revoke_a_certificate_after_confirming(issued: Any, clock: Any) -> None:
    holder, certificate = issued()
    browser = Browser(certificate)
    first_login(browser, holder, clock)
    serial = Enrollment.objects.get(holder=holder).certificate.serial_hex
    unconfirmed = browser.post(f"/mijn/certificaten/{serial}/intrekken/", {"reason": "superseded"})
    assert unconfirmed.status_code == 200
    done = browser.post(
        f"/mijn/certificaten/{serial}/intrekken/", {"reason": "superseded", "confirm": "on"}
    )
    assert "ingetrokken" in done.content.decode()
    revoked = Enrollment.objects.get(holder=holder).certificate
    assert revoked.is_revoked and revoked.revocation_reason == "superseded"


def test_the_chain_can_be_downloaded(issued: Any, clock: Any) -> None:
    holder, certificate = issued()
    browser = Browser(certificate)
    first_login(browser, holder, clock)
    serial = Enrollment.objects.get(holder=holder).certificate.serial_hex
    chain = x509.load_pem_x509_certificates(
        browser.get(f"/mijn/certificaten/{serial}/keten.pem").content
    )
    assert chain[0] == certificate and len(chain) == 3


def test_changing_the_password_needs_the_current_one(issued: Any, clock: Any) -> None:
    holder, certificate = issued()
    browser = Browser(certificate)
    first_login(browser, holder, clock)
    wrong = browser.post(
        "/mijn/wachtwoord/",
        {
            "current_password": "nope",
            "password": "Nieuw-Wachtwoord8?",
            "password_repeat": "Nieuw-Wachtwoord8?",
        },
    )
    assert "niet uw huidige wachtwoord" in wrong.content.decode()
    browser.post(
        "/mijn/wachtwoord/",
        {
            "current_password": PASSWORD,
            "password": "Nieuw-Wachtwoord8?",
            "password_repeat": "Nieuw-Wachtwoord8?",
        },
    )
    from django.contrib.auth.hashers import check_password

    assert check_password("Nieuw-Wachtwoord8?", Enrollment.objects.get(holder=holder).password_hash)


def test_resetting_the_authenticator_needs_the_password_and_replaces_the_secret(
    issued: Any, clock: Any
) -> None:
    holder, certificate = issued()
    browser = Browser(certificate)
    old = first_login(browser, holder, clock)
    response = browser.post("/mijn/authenticator/", {"password": PASSWORD})
    assert response["Location"] == "/inloggen/authenticator/"
    new = secret_from_setup_page(browser.get("/inloggen/authenticator/").content.decode())
    assert new != old
    assert browser.get("/mijn/").status_code == 302


def test_a_contact_person_sees_the_organisation_and_can_block_and_unblock(
    issued: Any, clock: Any
) -> None:
    contact, certificate = issued()
    Holder.objects.filter(pk=contact.pk).update(is_contact_person=True)
    colleague, _pin = issue_holder("personal", name="B. Bakker", organisation=contact.organisation)
    outsider, _pin = issue_holder("personal", name="C. Elders")
    browser = Browser(certificate)
    first_login(browser, contact, clock)
    page = browser.get("/mijn/organisatie/").content.decode()
    assert colleague.user_number in page and outsider.user_number not in page

    browser.post(f"/mijn/organisatie/{colleague.user_number}/block/", {})
    colleague.refresh_from_db()
    assert colleague.status == HolderStatus.BLOCKED and colleague.block_reason == "contact_person"
    browser.post(f"/mijn/organisatie/{colleague.user_number}/unblock/", {})
    colleague.refresh_from_db()
    assert colleague.status == HolderStatus.ACTIVE
    assert browser.post(f"/mijn/organisatie/{outsider.user_number}/block/", {}).status_code == 404


def test_other_holders_have_no_organisation_page(issued: Any, clock: Any) -> None:
    holder, certificate = issued()
    browser = Browser(certificate)
    first_login(browser, holder, clock)
    assert browser.get("/mijn/organisatie/").status_code == 404


def test_a_login_block_can_be_lifted_and_counting_starts_afresh(issued: Any) -> None:
    holder, certificate = issued()
    browser = Browser(certificate)
    for _attempt in range(5):
        browser.post(
            "/inloggen/", {"user_number": holder.user_number, "password": "Wrong-Password1!"}
        )
    holder.refresh_from_db()
    assert holder.unblock(actor="test") is True
    browser.post("/inloggen/", {"user_number": holder.user_number, "password": "Wrong-Password1!"})
    holder.refresh_from_db()
    assert holder.status == HolderStatus.ACTIVE


class TestRenewal:
    def test_within_60_days_a_logged_in_holder_renews_without_a_pin(
        self, issued: Any, clock: Any
    ) -> None:
        make_policy()
        holder, certificate = issued()
        browser = Browser(certificate)
        secret = first_login(browser, holder, clock)
        old = Enrollment.objects.get(holder=holder)
        assert "Certificaat vernieuwen" not in browser.get("/mijn/").content.decode()

        clock.move_to(certificate.not_valid_after_utc - timedelta(days=59))
        browser = Browser(certificate)  # the old session has long expired: log in again
        browser.post(
            "/inloggen/",
            {"user_number": holder.user_number, "password": PASSWORD, "code": code(secret)},
        )
        assert "Certificaat vernieuwen" in browser.get("/mijn/").content.decode()
        step = browser.get("/mijn/vernieuwen/")
        assert "Stap 3 van 7" in step.content.decode()
        prefix = "renew_personal-current_step"
        browser.post(
            "/mijn/vernieuwen/",
            {
                prefix: "e-mailadres",
                "e-mailadres-email": "a@example.org",
                "e-mailadres-email_repeat": "a@example.org",
            },
        )
        browser.post(
            "/mijn/vernieuwen/",
            {prefix: "certificaatnaam", "certificaatnaam-certificate_name": "NIEUW"},
        )
        browser.post(
            "/mijn/vernieuwen/",
            {
                prefix: "wachtwoord",
                "wachtwoord-password": PASSWORD,
                "wachtwoord-password_repeat": PASSWORD,
            },
        )
        done = browser.post(
            "/mijn/vernieuwen/",
            {
                prefix: "voorwaarden",
                "voorwaarden-consent_certificate_use": "on",
                "voorwaarden-consent_software": "on",
            },
        )
        renewal = Enrollment.objects.get(holder=holder, certificate_name="NIEUW")
        assert done["Location"] == f"/enroll/{renewal.public_id}/"
        assert renewal.activation_code is None and renewal.renews == old.certificate
        assert "Start installeren" in browser.get(done["Location"]).content.decode()

    def test_renewal_is_refused_before_the_window_and_without_login(
        self, issued: Any, clock: Any
    ) -> None:
        holder, certificate = issued()
        browser = Browser(certificate)
        assert browser.get("/mijn/vernieuwen/")["Location"] == "/inloggen/"
        first_login(browser, holder, clock)
        assert browser.get("/mijn/vernieuwen/")["Location"] == "/mijn/"
