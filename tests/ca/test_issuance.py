"""Orders and the signing task (eager): what gets issued, exactly once, and what fails how."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEntry
from ca import lint
from ca.authority import init_hierarchy
from ca.csr_policy import check_csr
from ca.issuance import Outcome, issue_order
from ca.models import Certificate, CertificateAuthority, Order, OrderStatus
from ca.tasks import sign_order, sweep_orders
from enrollment.models import Enrollment, EnrollmentStatus, HolderKind
from tests.fixtures.ca import (
    DEFAULTS,
    certificate_of,
    enrollment_of,
    fixture_bytes,
    order_for,
    pkilint_certificate,
    run,
    unchecked_order,
)

pytestmark = pytest.mark.django_db


def _issue(
    enrollment: Enrollment, csr: str, capture: Callable[..., Any]
) -> tuple[Order, Certificate]:
    with capture(execute=True):
        order = order_for(enrollment, fixture_bytes(csr), client_address="192.0.2.7")
    order.refresh_from_db()
    assert order.status == OrderStatus.ISSUED, order.error_code
    # The CA reported the certificate and the RA recorded it on the enrollment.
    assert certificate_of(enrollment) == order.certificate
    return order, order.certificate


def _chain_files(
    tmp_path: Path, issuing: CertificateAuthority, certificate: Certificate
) -> tuple[Path, Path, Path]:
    assert issuing.parent is not None
    root = tmp_path / "root.pem"
    root.write_text(issuing.parent.pem)
    intermediate = tmp_path / "issuing.pem"
    intermediate.write_text(issuing.pem)
    leaf = tmp_path / "leaf.pem"
    leaf.write_text(certificate.pem)
    return root, intermediate, leaf


def _openssl_verify(root: Path, intermediate: Path, leaf: Path) -> None:
    result = run(
        "openssl",
        "verify",
        "-x509_strict",
        "-purpose",
        "sslclient",
        "-CAfile",
        str(root),
        "-untrusted",
        str(intermediate),
        str(leaf),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{leaf}: OK" in result.stdout


@pytest.mark.parametrize(
    "csr", ["rsa2048.pem", "rsa3072.der", "rsa4096.pem", "p256.pem", "p384.der"]
)
@pytest.mark.parametrize("kind", [HolderKind.PERSONAL, HolderKind.SYSTEM])
def test_it_issues_a_certificate_that_passes_pkilint_and_openssl_verify(
    csr: str,
    kind: str,
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
    tmp_path: Path,
) -> None:
    enrollment = make_enrollment(kind=kind)
    _order, certificate = _issue(enrollment, csr, django_capture_on_commit_callbacks)
    root, intermediate, leaf = _chain_files(tmp_path, hierarchy, certificate)
    result = pkilint_certificate(leaf)
    assert result.returncode == 0, result.stdout
    _openssl_verify(root, intermediate, leaf)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ISSUED


def test_the_default_rsa_hierarchy_issues_lint_clean_verifiable_certificates(
    db: None,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
    tmp_path: Path,
) -> None:
    init_hierarchy(DEFAULTS)
    issuing = CertificateAuthority.objects.current_issuing()
    assert issuing is not None and issuing.parent is not None
    assert issuing.certificate.public_key().key_size == 3072  # type: ignore[union-attr]
    assert issuing.parent.certificate.public_key().key_size == 4096  # type: ignore[union-attr]
    _order, certificate = _issue(
        make_enrollment(), "rsa2048.pem", django_capture_on_commit_callbacks
    )
    root, intermediate, leaf = _chain_files(tmp_path, issuing, certificate)
    for path in (root, intermediate, leaf):
        result = pkilint_certificate(path)
        assert result.returncode == 0, f"{path}: {result.stdout}"
    _openssl_verify(root, intermediate, leaf)


def test_the_subject_comes_from_the_database_and_the_profile_not_the_csr(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
    settings: Any,
) -> None:
    enrollment = make_enrollment(name="Dr. B. de Vries")
    _order, issued = _issue(enrollment, "rsa2048.pem", django_capture_on_commit_callbacks)
    cert = issued.certificate
    holder = enrollment.holder
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        f"{enrollment.certificate_name} - Dr. B. de Vries"
    )
    assert subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == holder.user_number
    assert (
        subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
        == holder.organisation.name
    )
    assert "Chosen By The Client" not in subject.rfc4514_string()
    # The CSR asked for CA:TRUE; the profile says otherwise.
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca is False
    key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert (
        key_usage.critical
        and key_usage.value.digital_signature
        and key_usage.value.key_encipherment
    )
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert policies[0].policy_identifier.dotted_string == settings.CA_POLICY_OID
    assert policies[0].policy_qualifiers == [f"{settings.PORTAL_URL}/cps/"]
    crl_dp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert crl_dp[0].full_name[0].value == hierarchy.crl_url
    aia = {
        d.access_method: d.access_location.value
        for d in cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    }
    assert aia[x509.AuthorityInformationAccessOID.OCSP] == f"{settings.PORTAL_URL}/ocsp"
    assert aia[x509.AuthorityInformationAccessOID.CA_ISSUERS] == hierarchy.certificate_url
    assert 0 < cert.serial_number < 2**159
    assert cert.not_valid_after_utc - cert.not_valid_before_utc >= timedelta(days=3 * 365)


def test_ecdsa_keys_get_no_key_encipherment(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    _order, issued = _issue(make_enrollment(), "p256.pem", django_capture_on_commit_callbacks)
    key_usage = issued.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert key_usage.digital_signature and not key_usage.key_encipherment


def test_it_stores_serial_fingerprints_and_der(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    from cryptography.hazmat.primitives import hashes

    _order, issued = _issue(make_enrollment(), "p256.pem", django_capture_on_commit_callbacks)
    cert = issued.certificate
    assert issued.serial_hex == format(cert.serial_number, "x")
    assert issued.sha256_hex == cert.fingerprint(hashes.SHA256()).hex()
    assert issued.issuer == hierarchy
    assert issued.ocsp_response_der  # pre-signed right away


def test_validity_is_configurable_and_never_exceeds_the_issuer(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
    settings: Any,
) -> None:
    settings.CA_CERT_VALIDITY_DAYS = 30
    _order, issued = _issue(make_enrollment(), "p256.pem", django_capture_on_commit_callbacks)
    lifetime = issued.not_after - issued.not_before
    assert timedelta(days=30) <= lifetime <= timedelta(days=30, minutes=10)
    settings.CA_CERT_VALIDITY_DAYS = 5 * 365
    settings.CA_ISSUING_VALIDITY_DAYS = 30
    _order, longer = _issue(make_enrollment(), "p256.pem", django_capture_on_commit_callbacks)
    assert longer.not_after <= hierarchy.not_after


def test_one_enrollment_never_gets_two_live_orders_or_two_certificates(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    enrollment = make_enrollment()
    order, issued = _issue(enrollment, "p256.pem", django_capture_on_commit_callbacks)
    with pytest.raises(IntegrityError):
        order_for(enrollment, fixture_bytes("p256.pem"))
    # Even if the first order were marked failed (so the order constraint allows another),
    # the certificate's unique index on the reference refuses a second certificate.
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.FAILED)
    second = unchecked_order(enrollment, order.csr_der)
    assert issue_order(second.pk).status == OrderStatus.FAILED
    second.refresh_from_db()
    assert second.error_code == "already_issued"
    assert Certificate.objects.filter(reference=enrollment.public_id).count() == 1
    assert certificate_of(enrollment) == issued


def test_a_redelivered_task_does_not_issue_again(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    order, _issued = _issue(make_enrollment(), "p256.pem", django_capture_on_commit_callbacks)
    assert sign_order.apply(args=(order.pk,)).get() == OrderStatus.ISSUED
    assert sign_order.apply(args=(order.pk,)).get() == OrderStatus.ISSUED
    assert Certificate.objects.count() == 1
    assert AuditEntry.objects.filter(event="certificate_issued").count() == 1


def test_of_two_claims_only_one_wins(
    hierarchy: CertificateAuthority, make_enrollment: Callable[..., Enrollment]
) -> None:
    order = order_for(make_enrollment(), check_csr(fixture_bytes("p256.pem")))
    first = Order.objects.claim(order.pk, lease_seconds=60)
    second = Order.objects.claim(order.pk, lease_seconds=60)
    assert first is not None and second is None
    # A first delivery leaves the order to the live claim that holds it (another task's
    # batch); a redelivered task may be the one whose worker died: it looks again later.
    assert issue_order(order.pk) == Outcome(OrderStatus.PROCESSING, retry_after_lease=False)
    assert issue_order(order.pk, redelivered=True).retry_after_lease


def test_a_task_whose_order_is_claimed_under_a_live_lease_answers_from_one_read(
    hierarchy: CertificateAuthority, make_enrollment: Callable[..., Enrollment]
) -> None:
    order = order_for(make_enrollment(), check_csr(fixture_bytes("p256.pem")))
    assert Order.objects.claim(order.pk, lease_seconds=60) is not None  # another task's batch
    with CaptureQueriesContext(connection) as queries:
        outcome = issue_order(order.pk)
    assert outcome == Outcome(OrderStatus.PROCESSING, retry_after_lease=False)
    assert len(queries) == 1  # no claim that could only fail
    assert Order.objects.get(pk=order.pk).attempts == 1


def test_a_dead_workers_claim_is_taken_over_after_the_lease(
    hierarchy: CertificateAuthority, make_enrollment: Callable[..., Enrollment], settings: Any
) -> None:
    order = order_for(make_enrollment(), check_csr(fixture_bytes("p256.pem")))
    assert Order.objects.claim(order.pk, lease_seconds=60) is not None  # then the worker died
    Order.objects.filter(pk=order.pk).update(claimed_at=timezone.now() - timedelta(seconds=61))
    settings.CA_ORDER_LEASE_SECONDS = 60
    assert issue_order(order.pk).status == OrderStatus.ISSUED
    assert Certificate.objects.filter(order=order).count() == 1


def test_a_lint_finding_stops_issuance_with_an_error_code(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        lint,
        "lint_certificate",
        lambda der: [lint.Finding("WARNING", "pkix.made_up", "certificate")],
    )
    with django_capture_on_commit_callbacks(execute=True):
        order = order_for(make_enrollment(), fixture_bytes("p256.pem"))
    order.refresh_from_db()
    assert (order.status, order.error_code) == (OrderStatus.FAILED, "lint_failed")
    assert not Certificate.objects.exists()
    finding = AuditEntry.objects.get(event="lint_failed")
    assert finding.details == {"findings": ["WARNING pkix.made_up at certificate"]}


def test_without_an_issuing_ca_the_order_fails_instead_of_hanging(
    db: None,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        order = order_for(make_enrollment(), fixture_bytes("p256.pem"))
    order.refresh_from_db()
    assert (order.status, order.error_code) == (OrderStatus.FAILED, "no_issuing_ca")


def test_a_csr_that_no_longer_passes_the_policy_fails_at_signing(
    hierarchy: CertificateAuthority, make_enrollment: Callable[..., Enrollment]
) -> None:
    order = unchecked_order(make_enrollment(), fixture_bytes("rsa1024.pem"))
    assert issue_order(order.pk).status == OrderStatus.FAILED
    order.refresh_from_db()
    assert order.error_code == "key_too_small"


def test_the_sweep_requeues_unsent_orders_and_fails_stuck_ones(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    settings: Any,
) -> None:
    csr = check_csr(fixture_bytes("p256.pem"))
    # Committed while the broker was down: the on-commit send never happened.
    unsent = order_for(make_enrollment(), csr)
    stuck = order_for(make_enrollment(), csr)
    Order.objects.filter(pk=stuck.pk).update(
        status=OrderStatus.PROCESSING,
        claimed_at=timezone.now() - timedelta(seconds=settings.CA_ORDER_STUCK_SECONDS + 1),
        attempts=settings.CA_ORDER_MAX_ATTEMPTS,
    )
    result = sweep_orders.apply(kwargs={"requeue_after": 0}).get()
    assert result == {"requeued": 1, "failed": 1}
    unsent.refresh_from_db()
    stuck.refresh_from_db()
    assert unsent.status == OrderStatus.ISSUED
    assert (stuck.status, stuck.error_code) == (OrderStatus.FAILED, "stuck")
    assert not Order.objects.filter(
        status__in=[OrderStatus.PENDING, OrderStatus.PROCESSING]
    ).exists()


def test_a_sweep_requeues_at_most_its_limit_dead_workers_orders_first_then_the_oldest(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    csr = check_csr(fixture_bytes("p256.pem"))
    oldest, older, _newer, dead_workers = (order_for(make_enrollment(), csr) for _ in range(4))
    Order.objects.filter(pk=dead_workers.pk).update(
        status=OrderStatus.PROCESSING,
        claimed_at=timezone.now() - timedelta(seconds=settings.CA_ORDER_LEASE_SECONDS + 1),
        attempts=1,
    )
    sent: list[int] = []
    monkeypatch.setattr(sign_order, "apply_async", lambda args: sent.append(args[0]))
    settings.CA_SWEEP_REQUEUE_LIMIT = 3
    assert sweep_orders(requeue_after=0) == {"requeued": 3, "failed": 0}
    assert sent == [dead_workers.pk, oldest.pk, older.pk]


def test_a_batch_takes_a_dead_workers_orders_before_pending_ones(
    hierarchy: CertificateAuthority, make_enrollment: Callable[..., Enrollment]
) -> None:
    csr = check_csr(fixture_bytes("p256.pem"))
    oldest, _newer, dead_workers = (order_for(make_enrollment(), csr) for _ in range(3))
    Order.objects.filter(pk=dead_workers.pk).update(
        status=OrderStatus.PROCESSING,
        claimed_at=timezone.now() - timedelta(seconds=61),
        attempts=1,
    )
    token = uuid.uuid4()
    assert Order.objects.claim_more(token, 2, lease_seconds=60) == [dead_workers.pk, oldest.pk]
    assert set(Order.objects.filter(claim_token=token).values_list("pk", flat=True)) == {
        dead_workers.pk,
        oldest.pk,
    }


def test_the_sweep_leaves_young_pending_orders_to_the_broker(
    hierarchy: CertificateAuthority, make_enrollment: Callable[..., Enrollment], eager_tasks: None
) -> None:
    order_for(make_enrollment(), check_csr(fixture_bytes("p256.pem")))
    assert sweep_orders.apply(kwargs={"requeue_after": 3600}).get() == {"requeued": 0, "failed": 0}


def test_pkilint_in_process_accepts_what_the_cli_accepts(hierarchy: CertificateAuthority) -> None:
    from cryptography.hazmat.primitives import serialization

    assert (
        lint.lint_certificate(hierarchy.certificate.public_bytes(serialization.Encoding.DER)) == []
    )


def test_rsa_ca_keys_sign_with_pkcs1_sha256(db: None, tmp_path: Path) -> None:
    from tests.fixtures.ca import DEFAULTS

    init_hierarchy(DEFAULTS)
    issuing = CertificateAuthority.objects.current_issuing()
    assert issuing is not None
    assert isinstance(issuing.certificate.public_key(), rsa.RSAPublicKey)
    assert issuing.certificate.signature_hash_algorithm is not None
    assert issuing.certificate.signature_hash_algorithm.name == "sha256"


def test_a_worker_that_lost_its_claim_does_not_store_its_certificate(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ca import issuance

    order = order_for(make_enrollment(), check_csr(fixture_bytes("p256.pem")))
    original = issuance._store

    def slow_store(records: list[tuple[Order, Any]], token: Any, *args: Any) -> Any:
        # Meanwhile the lease ran out and another worker claimed the order.
        Order.objects.filter(pk=order.pk).update(claim_token=None)
        return original(records, token, *args)

    monkeypatch.setattr(issuance, "_store", slow_store)
    assert issue_order(order.pk).status == OrderStatus.PROCESSING
    assert not Certificate.objects.exists()


def test_workers_pick_up_a_rolled_over_issuing_ca_after_the_signer_cache_time(
    hierarchy: CertificateAuthority, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ca import issuance
    from tests.fixtures.ca import FAST

    settings.CA_SIGNER_CACHE_SECONDS = 60
    monkeypatch.setattr(issuance, "_signer", None)
    first = issuance._current_signer()
    assert first is not None and first.ca == hierarchy and first.responder is not None
    init_hierarchy(FAST, rollover=True)
    assert issuance._current_signer() is first, "looked up again within the cache time"
    monkeypatch.setattr(issuance.time, "monotonic", lambda: first.until + 1)
    later = issuance._current_signer()
    assert later is not None and later.ca != hierarchy
    assert later.ca == CertificateAuthority.objects.current_issuing()


def test_an_unusable_key_leaves_the_order_for_a_retry_instead_of_failing_it(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ca.keys import KeysUnavailable

    settings.CA_ORDER_LEASE_SECONDS = 60
    order = order_for(make_enrollment(), check_csr(fixture_bytes("p256.pem")))

    def unusable(self: CertificateAuthority) -> None:
        raise KeysUnavailable("the HSM does not answer")

    with monkeypatch.context() as hsm_away:
        hsm_away.setattr(CertificateAuthority, "signing_key", unusable)
        assert issue_order(order.pk).retry_after_lease
    order.refresh_from_db()
    assert (order.status, order.error_code) == (OrderStatus.PROCESSING, "")
    Order.objects.filter(pk=order.pk).update(claimed_at=timezone.now() - timedelta(seconds=61))
    assert issue_order(order.pk).status == OrderStatus.ISSUED


class TestSigningInBatches:
    """A task signs its order and up to CA_SIGNING_BATCH - 1 pending others in one go."""

    @pytest.fixture
    def pending(
        self, hierarchy: CertificateAuthority, make_enrollment: Callable[..., Enrollment]
    ) -> list[Order]:
        csr = check_csr(fixture_bytes("p256.pem"))
        return [order_for(make_enrollment(), csr) for _ in range(5)]

    def test_one_task_issues_the_queued_orders_each_once_and_their_tasks_then_do_nothing(
        self, pending: list[Order], settings: Any
    ) -> None:
        settings.CA_SIGNING_BATCH = 4
        assert issue_order(pending[2].pk).status == OrderStatus.ISSUED
        issued = Order.objects.filter(status=OrderStatus.ISSUED)
        # Its own order and the three oldest others.
        assert set(issued.values_list("pk", flat=True)) == {o.pk for o in pending[:4]}
        for order in pending:
            assert sign_order.apply(args=(order.pk,)).get() == OrderStatus.ISSUED
        assert Certificate.objects.count() == 5
        for order in pending:
            enrollment = enrollment_of(order)
            assert certificate_of(enrollment).order_id == order.pk
            assert enrollment.status == EnrollmentStatus.ISSUED
        assert AuditEntry.objects.filter(event="certificate_issued").count() == 5
        assert AuditEntry.objects.filter(event="lint_passed").count() == 5
        assert AuditEntry.objects.verify() == []

    def test_a_batch_of_one_signs_only_its_own_order(
        self, pending: list[Order], settings: Any
    ) -> None:
        settings.CA_SIGNING_BATCH = 1
        assert issue_order(pending[3].pk).status == OrderStatus.ISSUED
        assert list(Certificate.objects.values_list("order_id", flat=True)) == [pending[3].pk]

    def test_an_order_that_fails_does_not_hold_up_the_others(
        self, pending: list[Order], settings: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        settings.CA_SIGNING_BATCH = 5
        refused = pending[1]
        original = lint.lint_certificate
        subject_name = enrollment_of(refused).certificate_name

        def lint_refusing_one(der: bytes) -> list[lint.Finding]:
            if subject_name.encode() in der:
                return [lint.Finding("ERROR", "pkix.made_up", "certificate")]
            return original(der)

        monkeypatch.setattr(lint, "lint_certificate", lint_refusing_one)
        assert issue_order(pending[0].pk).status == OrderStatus.ISSUED
        refused.refresh_from_db()
        assert (refused.status, refused.error_code) == (OrderStatus.FAILED, "lint_failed")
        assert Certificate.objects.count() == 4

    def test_an_enrollment_certified_meanwhile_fails_alone_and_gets_no_second_certificate(
        self, pending: list[Order], settings: Any
    ) -> None:
        settings.CA_SIGNING_BATCH = 1
        taken = pending[4]
        assert issue_order(taken.pk).status == OrderStatus.ISSUED
        # Were that order marked failed, the order constraint would allow another.
        Order.objects.filter(pk=taken.pk).update(status=OrderStatus.FAILED)
        second = unchecked_order(enrollment_of(taken), taken.csr_der)
        settings.CA_SIGNING_BATCH = 5
        assert issue_order(pending[0].pk).status == OrderStatus.ISSUED
        second.refresh_from_db()
        assert (second.status, second.error_code) == (OrderStatus.FAILED, "already_issued")
        assert Certificate.objects.filter(reference=taken.reference).count() == 1
        assert certificate_of(enrollment_of(taken)).order_id == taken.pk
        assert Order.objects.filter(status=OrderStatus.ISSUED).count() == 4
        assert Certificate.objects.count() == 5

    def test_the_orders_of_a_batch_whose_worker_died_are_taken_over_with_its_own(
        self, pending: list[Order], settings: Any
    ) -> None:
        settings.CA_SIGNING_BATCH = 3
        token = Order.objects.claim(pending[0].pk, lease_seconds=60)
        assert token is not None
        assert Order.objects.claim_more(token, 2, lease_seconds=60) == [o.pk for o in pending[1:3]]
        # Then that worker died. Its other orders' tasks leave them to the claim...
        assert not issue_order(pending[1].pk).retry_after_lease
        assert Order.objects.filter(status=OrderStatus.PROCESSING).count() == 3
        # ...until the lease has run out: the retry of the first order takes all three.
        Order.objects.filter(claim_token=token).update(
            claimed_at=timezone.now() - timedelta(seconds=61)
        )
        settings.CA_ORDER_LEASE_SECONDS = 60
        assert issue_order(pending[0].pk, redelivered=True).status == OrderStatus.ISSUED
        issued = Order.objects.filter(status=OrderStatus.ISSUED)
        assert set(issued.values_list("pk", flat=True)) == {o.pk for o in pending[:3]}
        assert Certificate.objects.count() == 3


def test_preparing_a_worker_builds_the_linter_and_signs_nothing_with_the_ca_key(
    hierarchy: CertificateAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ca import issuance

    monkeypatch.setattr(lint, "_validators", {})
    monkeypatch.setattr(issuance, "_signer", None)
    key = hierarchy.signing_key()
    signed: list[bytes] = []

    class Watched:
        spec = key.spec

        def sign(self, data: bytes, algorithm: Any) -> bytes:
            signed.append(data)
            return key.sign(data, algorithm)

    monkeypatch.setattr(CertificateAuthority, "signing_key", lambda self: Watched())
    audit_entries = AuditEntry.objects.count()
    issuance.prepare_signing()
    assert "certificate" in lint._validators
    assert signed == []
    assert not Certificate.objects.exists()
    assert AuditEntry.objects.count() == audit_entries
