"""Revocation: model method, holder blocking, CRLs (openssl, pkilint, 100,000 entries)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from django.utils import timezone

from audit.models import AuditEntry, AuditEvent
from ca.crl import build_crl, crls_due, publish_crl, revoked_entry
from ca.interface import revoke_holder_certificates
from ca.models import Certificate, CertificateAuthority, RevocationReason
from ca.tasks import refresh_publications
from enrollment.models import Enrollment
from tests.fixtures.ca import fixture_bytes, order_for, pkilint_crl, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Callable[..., Certificate]:
    def issue(enrollment: Enrollment | None = None) -> Certificate:
        with django_capture_on_commit_callbacks(execute=True):
            order = order_for(enrollment or make_enrollment(), fixture_bytes("p256.pem"))
        return Certificate.objects.get(order=order)

    return issue


def _latest_crl(ca: CertificateAuthority) -> x509.CertificateRevocationList:
    latest = ca.latest_crl()
    assert latest is not None
    return x509.load_der_x509_crl(bytes(latest.der))


def test_revoking_publishes_a_new_crl_with_the_serial_and_reason(
    issue: Callable[..., Certificate],
    hierarchy: CertificateAuthority,
    django_capture_on_commit_callbacks: Callable[..., Any],
    tmp_path: Path,
) -> None:
    certificate = issue()
    before = _latest_crl(hierarchy)
    with django_capture_on_commit_callbacks(execute=True):
        assert certificate.revoke(
            RevocationReason.KEY_COMPROMISE, actor="admin:alice", client_address="192.0.2.1"
        )
    crl = _latest_crl(hierarchy)
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert number > before.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    entry = crl.get_revoked_certificate_by_serial_number(certificate.certificate.serial_number)
    assert entry is not None
    assert (
        entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        == x509.ReasonFlags.key_compromise
    )
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == hierarchy.subject_key_identifier.digest
    audit = AuditEntry.objects.get(event="certificate_revoked")
    assert (audit.actor, audit.client_address) == ("admin:alice", "192.0.2.1")
    assert AuditEntry.objects.filter(event="crl_published").count() >= 2


def test_a_second_revocation_keeps_the_first_reason(
    issue: Callable[..., Certificate], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    certificate = issue()
    with django_capture_on_commit_callbacks(execute=True):
        assert certificate.revoke(RevocationReason.SUPERSEDED, actor="admin:a")
        assert not certificate.revoke(RevocationReason.KEY_COMPROMISE, actor="admin:b")
    assert certificate.revocation_reason == RevocationReason.SUPERSEDED


def test_unknown_reasons_are_refused(issue: Callable[..., Certificate]) -> None:
    with pytest.raises(ValueError, match="unknown revocation reason"):
        issue().revoke("removeFromCRL", actor="admin:a")


def test_the_crl_verifies_with_openssl_and_passes_pkilint(
    issue: Callable[..., Certificate],
    hierarchy: CertificateAuthority,
    django_capture_on_commit_callbacks: Callable[..., Any],
    tmp_path: Path,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        issue().revoke(RevocationReason.KEY_COMPROMISE, actor="admin:a")
        issue().revoke(RevocationReason.UNSPECIFIED, actor="admin:a")
        issue().revoke(RevocationReason.CERTIFICATE_HOLD, actor="admin:a")
    latest = hierarchy.latest_crl()
    assert latest is not None and latest.entries == 3
    crl_path = tmp_path / "issuing.crl"
    crl_path.write_bytes(bytes(latest.der))
    ca_path = tmp_path / "issuing.pem"
    ca_path.write_text(hierarchy.pem)
    result = run(
        "openssl",
        "crl",
        "-inform",
        "DER",
        "-in",
        str(crl_path),
        "-CAfile",
        str(ca_path),
        "-verify",
        "-noout",
    )
    assert result.returncode == 0 and "verify OK" in result.stderr + result.stdout, result.stderr
    lint = pkilint_crl(crl_path)
    assert lint.returncode == 0, lint.stdout
    assert hierarchy.parent is not None
    root_crl = tmp_path / "root.crl"
    root_crl.write_bytes(bytes(hierarchy.parent.latest_crl().der))  # type: ignore[union-attr]
    assert pkilint_crl(root_crl).returncode == 0


def test_blocking_a_holder_puts_all_their_certificates_on_hold_and_unblocking_releases_them(
    issue: Callable[..., Certificate],
    make_enrollment: Callable[..., Enrollment],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    first = issue()
    holder = first.enrollment.holder
    second = issue(make_enrollment(holder=holder))
    bystander = issue()
    with django_capture_on_commit_callbacks(execute=True):
        assert holder.block(actor="admin:alice", client_address="192.0.2.7")
    assert set(
        Certificate.objects.filter(revocation_reason="certificateHold").values_list("pk", flat=True)
    ) == {
        first.pk,
        second.pk,
    }
    bystander.refresh_from_db()
    assert not bystander.is_revoked
    holds = AuditEntry.objects.filter(event=AuditEvent.CERTIFICATE_REVOKED)
    assert set(holds.values_list("object_id", "actor", "client_address")) == {
        (str(first.pk), "admin:alice", "192.0.2.7"),
        (str(second.pk), "admin:alice", "192.0.2.7"),
    }
    # The hold is on the CRL the block made published.
    entry = _latest_crl(first.issuer).get_revoked_certificate_by_serial_number(
        first.certificate.serial_number
    )
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.certificate_hold
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert holder.unblock(actor="admin:alice")
    assert not Certificate.objects.revoked().exists()
    assert AuditEntry.objects.filter(event=AuditEvent.HOLD_RELEASED).count() == 2


def test_revoke_holder_certificates_takes_any_reason(
    issue: Callable[..., Certificate], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    certificate = issue()
    with django_capture_on_commit_callbacks(execute=True):
        count = revoke_holder_certificates(
            certificate.enrollment.holder.ca_reference,
            RevocationReason.PRIVILEGE_WITHDRAWN,
            actor="admin:a",
        )
    assert count == 1
    certificate.refresh_from_db()
    assert certificate.revocation_reason == RevocationReason.PRIVILEGE_WITHDRAWN


def test_crls_are_refreshed_well_before_next_update(
    hierarchy: CertificateAuthority, settings: Any, time_machine: Any
) -> None:
    first = hierarchy.latest_crl()
    assert first is not None
    assert first.next_update - first.this_update == timedelta(hours=settings.CA_CRL_VALIDITY_HOURS)
    assert hierarchy.pk not in crls_due()
    time_machine.move_to(timezone.now() + timedelta(hours=settings.CA_CRL_REFRESH_HOURS, minutes=1))
    assert hierarchy.pk in crls_due()
    refresh_publications.apply().get()
    latest = hierarchy.latest_crl()
    assert latest is not None and latest.number == first.number + 1
    assert latest.next_update > first.next_update


def test_a_crl_of_100000_entries_is_built_whole_and_signed(hierarchy: CertificateAuthority) -> None:
    # How fast this is belongs to `make bench`; here only that it is right.
    now = timezone.now().replace(microsecond=0)
    entries = [
        revoked_entry(format(n, "x"), now, RevocationReason.KEY_COMPROMISE if n % 2 else "")
        for n in range(10**12, 10**12 + 100_000)
    ]
    crl = build_crl(hierarchy, entries, 7, now)
    assert len(crl) == 100_000
    public_key = hierarchy.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert crl.is_signature_valid(public_key)
    entry = crl.get_revoked_certificate_by_serial_number(10**12 + 1)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.key_compromise
    )


def test_publishing_numbers_crls_monotonically(hierarchy: CertificateAuthority) -> None:
    numbers = [publish_crl(hierarchy.pk).number for _ in range(3)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3


def test_after_a_rollover_the_old_issuing_ca_keeps_publishing_crl_and_ocsp(
    issue: Callable[..., Certificate],
    hierarchy: CertificateAuthority,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp as x509_ocsp

    from ca.authority import init_hierarchy
    from ca.ocsp import answer
    from tests.fixtures.ca import FAST

    old_certificate = issue()
    init_hierarchy(FAST, rollover=True)
    new_ca = CertificateAuthority.objects.current_issuing()
    assert new_ca is not None and new_ca.pk != hierarchy.pk
    assert issue().issuer == new_ca  # new orders go to the new CA
    with django_capture_on_commit_callbacks(execute=True):
        old_certificate.revoke(RevocationReason.SUPERSEDED, actor="admin:a")
    crl = _latest_crl(hierarchy)
    assert crl.get_revoked_certificate_by_serial_number(old_certificate.certificate.serial_number)
    request = (
        x509_ocsp.OCSPRequestBuilder()
        .add_certificate(old_certificate.certificate, hierarchy.certificate, hashes.SHA1())  # noqa: S303
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    response = x509_ocsp.load_der_ocsp_response(answer(request))
    assert response.certificate_status == x509_ocsp.OCSPCertStatus.REVOKED
    assert hierarchy.pk in set(CertificateAuthority.objects.serving().values_list("pk", flat=True))
