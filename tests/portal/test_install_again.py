"""Installing again without a new PIN: another computer, a new one, or a broken first run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from django.test import Client

from audit.models import AuditEntry, AuditEvent
from ca.models import Certificate, RevocationReason
from enrollment import page_links
from enrollment.models import Enrollment, Holder
from tests.enrollment.factories import make_policy
from tests.fixtures.ca import certificate_of, fixture_bytes, order_for
from tests.fixtures.login import PASSWORD, Browser, code, first_login

pytestmark = pytest.mark.django_db

Issued = Callable[..., tuple[Holder, x509.Certificate]]


@pytest.fixture(autouse=True)
def _policy() -> None:
    make_policy()


def page_of(client: Client, enrollment: Enrollment) -> str:
    """The step-7 page, in a browser that knows the enrollment (made it, or the e-mail link)."""
    session = client.session
    session[page_links.SESSION_ENROLLMENTS] = [str(enrollment.public_id)]
    session.save()
    return client.get(f"/enroll/{enrollment.public_id}/").content.decode()


def ask(client: Client, enrollment: Enrollment, **fields: Any) -> Any:
    data = {
        "certificate_name": "TWEEDE",
        "consent_certificate_use": "on",
        "consent_software": "on",
        **fields,
    }
    return client.post(f"/enroll/{enrollment.public_id}/opnieuw/", data)


def install(enrollment: Enrollment, django_capture_on_commit_callbacks: Any) -> Certificate:
    with django_capture_on_commit_callbacks(execute=True):
        order_for(enrollment, fixture_bytes("rsa2048.pem"))
    certificate = certificate_of(enrollment)
    assert enrollment.mark_installed()
    return certificate


@pytest.fixture
def first(issued: Issued) -> Enrollment:
    holder, _certificate = issued()
    return Enrollment.objects.get(holder=holder)


def test_once_issued_step_7_offers_install_again_and_no_download_that_cannot_work(
    client: Client, first: Enrollment
) -> None:
    html = page_of(client, first)
    assert "Opnieuw installeren" in html
    assert f'action="/enroll/{first.public_id}/installer/"' not in html
    download = client.post(f"/enroll/{first.public_id}/installer/", {"platform": "linux"})
    assert download.status_code == 302 and "attachment" not in download.get(
        "Content-Disposition", ""
    )


def test_with_the_password_the_holder_gets_a_new_enrollment_with_a_download(
    client: Client, first: Enrollment
) -> None:
    page_of(client, first)
    response = ask(client, first, password=PASSWORD)
    again = Enrollment.objects.exclude(pk=first.pk).get()
    assert response.status_code == 302 and response["Location"] == f"/enroll/{again.public_id}/"
    assert again.renews_id == first.certificate_id and again.supersedes_on_install
    assert again.activation_code is None and again.password_hash == first.password_hash
    html = client.get(response["Location"]).content.decode()
    assert f'action="/enroll/{again.public_id}/installer/"' in html and "TWEEDE" in html
    (entry,) = AuditEntry.objects.filter(event=AuditEvent.INSTALL_AGAIN_REQUESTED)
    assert entry.actor == f"holder:{first.holder.user_number}"
    assert entry.object_id == str(again.pk)
    assert entry.details == {"certificate_name": "TWEEDE", "keeps_previous": False}


def test_a_wrong_password_is_refused_and_makes_nothing(client: Client, first: Enrollment) -> None:
    page_of(client, first)
    response = ask(client, first, password="Verkeerd-1!")
    assert response.status_code == 200
    assert "Dit wachtwoord is niet juist." in response.content.decode()
    assert Enrollment.objects.count() == 1


def test_a_stranger_without_the_page_cannot_even_see_the_form(first: Enrollment) -> None:
    assert Client().get(f"/enroll/{first.public_id}/opnieuw/").status_code == 404


def test_a_reload_or_second_click_says_already_done_and_makes_nothing_twice(
    client: Client, first: Enrollment
) -> None:
    page_of(client, first)
    one = ask(client, first, password=PASSWORD)
    two = ask(client, first, password=PASSWORD)
    assert one["Location"] == two["Location"]
    assert Enrollment.objects.count() == 2
    assert "al gevraagd om opnieuw te installeren" in client.get(two["Location"]).content.decode()
    assert AuditEntry.objects.filter(event=AuditEvent.INSTALL_AGAIN_REQUESTED).count() == 1


def test_installing_the_new_certificate_revokes_the_earlier_one_as_superseded(
    client: Client, first: Enrollment, django_capture_on_commit_callbacks: Any
) -> None:
    page_of(client, first)
    ask(client, first, password=PASSWORD)
    again = Enrollment.objects.exclude(pk=first.pk).get()
    old = certificate_of(first)
    new = install(again, django_capture_on_commit_callbacks)
    old.refresh_from_db()
    assert old.revocation_reason == RevocationReason.SUPERSEDED
    assert not new.is_revoked


def test_a_holder_who_uses_both_computers_keeps_both_within_the_limit(
    client: Client, first: Enrollment, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.MAX_LIVE_CERTIFICATES = 2
    page_of(client, first)
    ask(client, first, password=PASSWORD, keep_previous="on")
    again = Enrollment.objects.exclude(pk=first.pk).get()
    install(again, django_capture_on_commit_callbacks)
    assert not certificate_of(first).is_revoked

    # A third computer: keeping all three is over the limit, and the page says why.
    page_of(client, again)
    refused = ask(client, again, password=PASSWORD, certificate_name="DERDE", keep_previous="on")
    assert "de meeste die u kunt houden" in refused.content.decode()
    assert Enrollment.objects.count() == 2


def test_from_step_1_user_number_password_and_code_lead_to_the_form_without_password(
    issued: Issued, clock: Any, behind_nginx: None
) -> None:
    holder, certificate = issued()
    secret = first_login(Browser(certificate), holder, clock)
    clock.shift(60)
    browser = Client()  # the new computer: no certificate, no session
    response = browser.post(
        "/enroll/opnieuw/",
        {"user_number": holder.user_number, "password": PASSWORD, "code": code(secret)},
    )
    first = Enrollment.objects.get(holder=holder)
    assert response.status_code == 302
    assert response["Location"] == f"/enroll/{first.public_id}/opnieuw/"
    form = browser.get(response["Location"]).content.decode()
    assert 'name="password"' not in form
    made = browser.post(
        response["Location"],
        {"certificate_name": "NIEUWPC", "consent_certificate_use": "on", "consent_software": "on"},
    )
    assert made.status_code == 302
    assert Enrollment.objects.filter(holder=holder, certificate_name="NIEUWPC").exists()


def test_from_step_1_no_answer_tells_whether_a_user_number_exists(
    issued: Issued, clock: Any, behind_nginx: None
) -> None:
    holder, certificate = issued()
    secret = first_login(Browser(certificate), holder, clock)
    clock.shift(60)

    def answer(number: str, password: str) -> str:
        response = Client().post(
            "/enroll/opnieuw/", {"user_number": number, "password": password, "code": code(secret)}
        )
        assert response.status_code == 400
        return response.content.decode()

    wrong_password = answer(holder.user_number, "Verkeerd-1!")
    unknown = answer("12345678901237", PASSWORD)
    message = "Het gebruikersnummer, wachtwoord of de code is niet juist."
    assert message in wrong_password and message in unknown


def test_from_step_1_without_an_authenticator_the_email_link_is_the_way(
    issued: Issued,
) -> None:
    holder, _certificate = issued()
    response = Client().post(
        "/enroll/opnieuw/", {"user_number": holder.user_number, "password": PASSWORD}
    )
    assert "Open de link in de e-mail" in response.content.decode()


def test_step_1_links_to_installing_again(client: Client) -> None:
    assert 'href="/enroll/opnieuw/"' in client.get("/enroll/").content.decode()


def test_a_contact_person_installs_a_system_certificate_again_once_per_click(
    issued: Issued, clock: Any, behind_nginx: None, django_capture_on_commit_callbacks: Any
) -> None:
    contact, certificate = issued()
    Holder.objects.filter(pk=contact.pk).update(is_contact_person=True)
    system, _system_certificate = issued("system")
    Holder.objects.filter(pk=system.pk).update(organisation=contact.organisation)
    previous = Enrollment.objects.get(holder=system)
    browser = Browser(certificate)
    first_login(browser, contact, clock)
    assert "Opnieuw installeren" in browser.get("/mijn/organisatie/").content.decode()

    one = browser.post(f"/mijn/organisatie/{system.user_number}/opnieuw-installeren/", {})
    two = browser.post(f"/mijn/organisatie/{system.user_number}/opnieuw-installeren/", {})
    again = Enrollment.objects.get(holder=system, renews=previous.certificate)
    assert one["Location"] == two["Location"] == f"/enroll/{again.public_id}/"
    page = browser.get(one["Location"]).content.decode()
    assert f'action="/enroll/{again.public_id}/installer/"' in page
    assert f'action="/enroll/{again.public_id}/install-code/#installatiecode"' in page

    install(again, django_capture_on_commit_callbacks)
    assert certificate_of(previous).revocation_reason == RevocationReason.SUPERSEDED


def test_a_system_certificates_step_7_points_to_the_contact_person_once_issued(
    client: Client, issued: Issued
) -> None:
    system, _certificate = issued("system")
    html = page_of(client, Enrollment.objects.get(holder=system))
    assert "Installeren op een andere server" in html and "/installer/" not in html
