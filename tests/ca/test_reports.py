"""What the CA reports (ca.signals) under the RA's references, and how the RA repairs a lost report.

The CA knows the enrollment only by its public id (the order's reference): it says which
orders a worker took, which certificates it stored and which orders it gave up on, once its
transaction is done. enrollment/receivers.py records the certificate on the enrollment and
announces the progress; a report that never arrives is made good when the installation is
next read (``Enrollment.installation``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.dispatch import Signal
from django.utils import timezone

from ca import signals
from ca.csr_policy import check_csr
from ca.issuance import issue_order
from ca.models import Certificate, CertificateAuthority, Order, OrderStatus
from ca.tasks import sweep_orders
from enrollment import receivers
from enrollment.models import Enrollment, EnrollmentStatus, InstallProgress
from tests.fixtures.ca import (
    certificate_of,
    enrollment_of,
    fixture_bytes,
    order_for,
    unchecked_order,
)


@dataclass
class Report:
    signal: str
    kwargs: dict[str, Any]
    # Whether the report came while a transaction was open on the CA's connection.
    in_transaction: bool
    # What the database said at that moment, by order reference.
    order_statuses: dict[uuid.UUID, str] = field(default_factory=dict)
    certificates: set[uuid.UUID] = field(default_factory=set)


@pytest.fixture
def reports() -> Iterator[list[Report]]:
    """Every report of the CA, in order, with the state it was sent in."""
    received: list[Report] = []

    def listener(name: str) -> Callable[..., None]:
        def receive(sender: Any, **kwargs: Any) -> None:
            kwargs.pop("signal", None)
            received.append(
                Report(
                    name,
                    kwargs,
                    connection.in_atomic_block,
                    dict(Order.objects.values_list("reference", "status")),
                    set(Certificate.objects.values_list("reference", flat=True)),
                )
            )

        return receive

    names = ("signing_started", "certificates_issued", "orders_failed")
    for name in names:
        signal: Signal = getattr(signals, name)
        signal.connect(listener(name), weak=False, dispatch_uid=f"test.{name}")
    yield received
    for name in names:
        getattr(signals, name).disconnect(dispatch_uid=f"test.{name}")


@pytest.fixture
def announced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The progress the RA announces to waiting installers and step-7 pages (by topic)."""
    changes: list[tuple[str, str]] = []
    monkeypatch.setattr(receivers, "announce", lambda *pairs: changes.extend(pairs))
    return changes


@pytest.mark.django_db(transaction=True)
def test_a_batch_reports_taken_issued_and_failed_orders_by_reference_after_its_transaction(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    reports: list[Report],
    announced: list[tuple[str, str]],
    settings: Any,
) -> None:
    settings.CA_SIGNING_BATCH = 5
    good = order_for(make_enrollment(), fixture_bytes("p256.pem"))
    # Past the policy into the table; it fails at signing (the policy is checked again there).
    bad = unchecked_order(make_enrollment(), fixture_bytes("rsa1024.pem"))
    assert issue_order(good.pk).status == OrderStatus.ISSUED

    assert [report.signal for report in reports] == [
        "signing_started",
        "certificates_issued",
        "orders_failed",
    ]
    started, issued, failed = reports
    # Never from inside the CA's transaction: a receiver cannot undo or hold up its work.
    assert not any(report.in_transaction for report in reports)

    # The worker took both orders (its own first), under the RA's references.
    assert started.kwargs == {"references": [good.reference, bad.reference]}
    assert started.order_statuses == {
        good.reference: OrderStatus.PROCESSING,
        bad.reference: OrderStatus.PROCESSING,
    }
    assert started.certificates == set()

    certificate = Certificate.objects.get(order=good)
    assert issued.kwargs == {"issued": [signals.IssuedCertificate(good.reference, certificate.pk)]}
    assert issued.order_statuses[good.reference] == OrderStatus.ISSUED  # committed
    assert issued.certificates == {good.reference}

    assert failed.kwargs == {"failed": [signals.FailedOrder(bad.reference, "key_too_small")]}
    assert failed.order_statuses[bad.reference] == OrderStatus.FAILED

    # The references are the enrollments' public ids: the RA recorded the certificate on
    # the right one and told its waiters, and the other one's waiters of the failure.
    assert good.reference == enrollment_of(good).public_id
    assert certificate_of(enrollment_of(good)) == certificate
    assert enrollment_of(good).status == EnrollmentStatus.ISSUED
    assert enrollment_of(bad).certificate is None
    assert enrollment_of(bad).progress() == (InstallProgress.FAILED, "key_too_small")
    assert announced == [
        (str(good.reference), InstallProgress.SIGNING),
        (str(bad.reference), InstallProgress.SIGNING),
        (str(good.reference), InstallProgress.ISSUED),
        (str(bad.reference), InstallProgress.FAILED),
    ]


@pytest.mark.django_db
def test_a_task_that_finds_its_order_finished_reports_nothing_again(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    reports: list[Report],
) -> None:
    order = order_for(make_enrollment(), fixture_bytes("p256.pem"))
    assert issue_order(order.pk).status == OrderStatus.ISSUED
    assert len(reports) == 2
    assert issue_order(order.pk, redelivered=True).status == OrderStatus.ISSUED
    assert [report.signal for report in reports] == ["signing_started", "certificates_issued"]


@pytest.mark.django_db
def test_the_sweep_reports_the_orders_it_gives_up_on(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    reports: list[Report],
    announced: list[tuple[str, str]],
    settings: Any,
) -> None:
    stuck = order_for(make_enrollment(), check_csr(fixture_bytes("p256.pem")))
    Order.objects.filter(pk=stuck.pk).update(
        status=OrderStatus.PROCESSING,
        claimed_at=timezone.now() - timedelta(seconds=settings.CA_ORDER_STUCK_SECONDS + 1),
        attempts=settings.CA_ORDER_MAX_ATTEMPTS,
    )
    assert sweep_orders(requeue_after=3600) == {"requeued": 0, "failed": 1}
    [failed] = reports
    assert failed.signal == "orders_failed"
    assert failed.kwargs == {"failed": [signals.FailedOrder(stuck.reference, "stuck")]}
    assert announced == [(str(stuck.reference), InstallProgress.FAILED)]
    assert enrollment_of(stuck).progress() == (InstallProgress.FAILED, "stuck")


@pytest.mark.django_db
def test_a_lost_issued_report_is_repaired_when_the_installation_is_read(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    report_lost: None,
) -> None:
    enrollment = make_enrollment()
    order = order_for(enrollment, fixture_bytes("p256.pem"))
    assert issue_order(order.pk).status == OrderStatus.ISSUED
    certificate = Certificate.objects.get(order=order)
    # The CA issued; the RA does not know yet.
    enrollment.refresh_from_db()
    assert (enrollment.certificate, enrollment.status) == (None, EnrollmentStatus.READY)

    installation = enrollment.installation()

    assert installation.progress == InstallProgress.ISSUED
    assert (installation.sha1, installation.serial) == (
        certificate.sha1_hex,
        certificate.serial_hex,
    )
    assert certificate_of(enrollment) == certificate
    assert enrollment.status == EnrollmentStatus.ISSUED
    assert certificate.enrollment == enrollment
    # The report, arriving late after all, changes nothing.
    receivers.certificates_issued(
        sender=Order, issued=[signals.IssuedCertificate(order.reference, certificate.pk)]
    )
    assert certificate_of(enrollment) == certificate
    assert Enrollment.objects.record_issued({enrollment.public_id: certificate.pk}) == 0


@pytest.mark.django_db
def test_a_report_for_an_installed_enrollment_keeps_it_installed(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    report_lost: None,
) -> None:
    enrollment = make_enrollment()
    order = order_for(enrollment, fixture_bytes("p256.pem"))
    assert issue_order(order.pk).status == OrderStatus.ISSUED
    assert enrollment.installation().progress == InstallProgress.ISSUED
    assert enrollment.mark_installed()
    certificate = certificate_of(enrollment)
    receivers.certificates_issued(
        sender=Order, issued=[signals.IssuedCertificate(order.reference, certificate.pk)]
    )
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.certificate) == (EnrollmentStatus.INSTALLED, certificate)


@pytest.mark.django_db(transaction=True)
def test_a_receiver_that_fails_is_logged_and_the_issued_certificate_stands(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    caplog: pytest.LogCaptureFixture,
) -> None:
    enrollment = make_enrollment()
    order = order_for(enrollment, fixture_bytes("p256.pem"))

    def unreachable(self: Any, certificates: dict[uuid.UUID, int]) -> int:
        raise RuntimeError("the RA's database is away")

    with pytest.MonkeyPatch.context() as patch, caplog.at_level(logging.ERROR, "ca.signals"):
        patch.setattr(type(Enrollment.objects), "record_issued", unreachable)
        assert issue_order(order.pk).status == OrderStatus.ISSUED
    assert "a receiver of the CA's report failed" in caplog.text
    assert "the RA's database is away" in caplog.text
    # Committed before the report: the certificate and the order's state stand.
    certificate = Certificate.objects.get(order=order)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ISSUED
    enrollment.refresh_from_db()
    assert enrollment.certificate is None
    # The next read of the installation repairs what the report could not record.
    assert enrollment.installation().progress == InstallProgress.ISSUED
    assert certificate_of(enrollment) == certificate
