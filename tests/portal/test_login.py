"""Logging in with certificate + user number + password + authenticator code, and the dashboard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from django.contrib.sessions.models import Session

from audit.models import AuditEntry
from ca.models import RevocationReason
from enrollment.models import Enrollment, Holder, HolderStatus
from selfservice.models import HolderAccount
from tests.enrollment.factories import issue_holder, make_policy
from tests.fixtures.ca import certificate_of
from tests.fixtures.login import PASSWORD, Browser, code, first_login, secret_from_setup_page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("behind_nginx")]


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
        certificate_of(Enrollment.objects.get(holder=holder)).revoke(
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
    serial = certificate_of(Enrollment.objects.get(holder=holder)).serial_hex
    unconfirmed = browser.post(f"/mijn/certificaten/{serial}/intrekken/", {"reason": "superseded"})
    assert unconfirmed.status_code == 200
    done = browser.post(
        f"/mijn/certificaten/{serial}/intrekken/", {"reason": "superseded", "confirm": "on"}
    )
    assert "ingetrokken" in done.content.decode()
    revoked = certificate_of(Enrollment.objects.get(holder=holder))
    assert revoked.is_revoked and revoked.revocation_reason == "superseded"


def test_the_chain_can_be_downloaded(issued: Any, clock: Any) -> None:
    holder, certificate = issued()
    browser = Browser(certificate)
    first_login(browser, holder, clock)
    serial = certificate_of(Enrollment.objects.get(holder=holder)).serial_hex
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
        entry = browser.get("/mijn/vernieuwen/")
        assert entry["Location"] == "/mijn/vernieuwen/e-mailadres/"
        step = browser.get(entry["Location"])
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
        assert renewal.activation_code is None and renewal.renews == certificate_of(old)
        assert "Start installeren" in browser.get(done["Location"]).content.decode()

    def test_renewal_is_refused_before_the_window_and_without_login(
        self, issued: Any, clock: Any
    ) -> None:
        holder, certificate = issued()
        browser = Browser(certificate)
        assert browser.get("/mijn/vernieuwen/")["Location"] == "/inloggen/"
        first_login(browser, holder, clock)
        assert browser.get("/mijn/vernieuwen/")["Location"] == "/mijn/"
