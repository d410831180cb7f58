"""A certificate whose report from the CA never arrived is still found, recorded and usable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from ca import interface as ca
from ca.issuance import issue_order
from ca.models import CertificateAuthority
from enrollment.models import Enrollment, EnrollmentStatus
from enrollment.tasks import record_missed_certificates
from tests.fixtures.ca import fixture_bytes, order_for
from tests.fixtures.login import Browser, behind_nginx  # noqa: F401 - a fixture


@pytest.fixture
def unreported(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    report_lost: None,
) -> Enrollment:
    enrollment = make_enrollment()
    issue_order(order_for(enrollment, fixture_bytes("p256.pem")).pk)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.certificate) == (EnrollmentStatus.READY, None)
    return enrollment


def test_the_certificate_leads_to_its_enrollment_and_the_link_is_recorded(
    unreported: Enrollment,
) -> None:
    certificate = ca.certificate_for(unreported.public_id)
    assert certificate is not None
    assert Enrollment.objects.of_certificate(certificate) == unreported
    unreported.refresh_from_db()
    assert unreported.certificate == certificate
    assert unreported.status == EnrollmentStatus.ISSUED


def test_the_sweep_records_what_was_missed_and_leaves_recent_enrollments_to_their_report(
    unreported: Enrollment,
) -> None:
    assert record_missed_certificates() == 0  # younger than a minute: the report may be coming
    Enrollment.objects.filter(pk=unreported.pk).update(
        created_at=timezone.now() - timedelta(minutes=2)
    )
    assert record_missed_certificates() == 1
    unreported.refresh_from_db()
    assert unreported.status == EnrollmentStatus.ISSUED
    assert unreported.certificate is not None
    assert record_missed_certificates() == 0  # nothing twice


@pytest.mark.usefixtures("behind_nginx")
def test_logging_in_with_an_unreported_certificate_shows_the_login_form(
    unreported: Enrollment,
) -> None:
    certificate = ca.certificate_for(unreported.public_id)
    assert certificate is not None
    page = Browser(certificate.certificate).get("/inloggen/")
    assert page.status_code == 200
    assert unreported.certificate_name in page.content.decode()
