"""What people see of an EST renewal: both certificates on the contact person's organisation
page and in the admin, the expiry notice that says how to renew, and the /metrics gauge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone

from ca.interface import Certificate
from enrollment.models import Channel, Enrollment, Holder
from selfservice.reminders import send_due_reminders
from tests.est.conftest import Est, SystemCertificate, certificates_in, csr_for, new_key
from tests.fixtures.login import Browser, first_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def due(settings: Any) -> None:
    settings.RENEWAL_WINDOW_DAYS = 5 * 365


def renewed_over_est(est: Est, current: SystemCertificate, capture: Any) -> Certificate:
    """The certificate of the current one's renewal, which EST delivered."""
    body = csr_for(new_key(), current.certificate.subject)
    with capture(execute=True):
        assert est.post("simplereenroll", body, certificate=current.certificate).status_code == 202
    certificates_in(est.post("simplereenroll", body, certificate=current.certificate))
    renewal = Enrollment.objects.get(channel=Channel.EST, renews=current.record)
    assert renewal.certificate is not None
    return renewal.certificate


def test_the_organisation_page_shows_both_certificates_through_the_overlap_then_one_replaced(
    est: Est,
    issued: Any,
    clock: Any,
    system_certificate: Callable[..., SystemCertificate],
    due: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    contact, certificate = issued()
    Holder.objects.filter(pk=contact.pk).update(is_contact_person=True)
    system = system_certificate(organisation=contact.organisation)
    renewed = renewed_over_est(est, system, django_capture_on_commit_callbacks)
    browser = Browser(certificate)
    first_login(browser, contact, clock)

    page = browser.get("/mijn/organisatie/").content.decode()
    assert system.record.serial_hex in page and renewed.serial_hex in page
    assert "vernieuwd op" in page and "wordt dan vervangen" in page
    assert page.count("vernieuwd via EST") == 1

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        Enrollment.objects.retire_renewed()
    page = browser.get("/mijn/organisatie/").content.decode()
    assert "vervangen" in page and "vernieuwd op" not in page


def test_the_admin_shows_which_certificate_renews_which_and_until_when_the_old_one_works(
    est: Est,
    system_certificate: Callable[..., SystemCertificate],
    due: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    system = system_certificate()
    renewed = renewed_over_est(est, system, django_capture_on_commit_callbacks)
    renewal = renewed.enrollment
    admin = Client()
    admin.force_login(User.objects.create_superuser("beheer", "b@example.org", "x"))
    old_page = admin.get(f"/admin/enrollment/enrollment/{system.enrollment.pk}/change/")
    assert renewed.serial_hex in old_page.content.decode()
    assert "het vorige certificaat werkt tot" in old_page.content.decode()
    new_page = admin.get(f"/admin/enrollment/enrollment/{renewal.pk}/change/").content.decode()
    assert system.record.serial_hex in new_page and "EST" in new_page
    listing = admin.get("/admin/enrollment/enrollment/?channel__exact=est").content.decode()
    assert renewal.certificate_name in listing


def test_the_expiry_notice_goes_to_the_contact_person_with_serial_fingerprint_and_both_ways(
    system_certificate: Callable[..., SystemCertificate],
) -> None:
    hostile = 'Praktijk "{{ x }}" <b>%(x)s</b> & zn'
    system = system_certificate(name=hostile)
    with time_machine.travel(system.record.not_after - timedelta(days=29), tick=False):
        mail.outbox.clear()
        assert send_due_reminders() == 1
    (notice,) = mail.outbox
    assert notice.to == [system.holder.contact_email]
    body = notice.body
    assert system.record.serial_hex in body and system.record.sha256_hex in body
    assert "/.well-known/est/simplereenroll" in body and "est-renew.sh" in body
    assert "Opnieuw installeren" in body
    # Names are text here, never markup or template syntax.
    assert hostile in body and hostile in notice.subject and "\n" not in notice.subject


def test_a_renewed_system_certificate_gets_no_expiry_notice(
    est: Est,
    system_certificate: Callable[..., SystemCertificate],
    due: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    system = system_certificate()
    renewed_over_est(est, system, django_capture_on_commit_callbacks)
    with time_machine.travel(system.record.not_after - timedelta(days=29), tick=False):
        mail.outbox.clear()
        send_due_reminders()
    assert not [m for m in mail.outbox if system.record.serial_hex in m.body]


def test_metrics_count_the_certificates_that_expire_within_30_days(
    client: Client, system_certificate: Callable[..., SystemCertificate]
) -> None:
    system = system_certificate()
    line = 'portal_certificates_expiring_30d{kind="system"}'

    def gauge() -> str:
        text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
        return next(row for row in text.splitlines() if row.startswith(line))

    assert gauge() == f"{line} 0.0"
    with time_machine.travel(system.record.not_after - timedelta(days=29)):
        assert gauge() == f"{line} 1.0"
