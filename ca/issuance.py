"""Signing an order: claim, re-verify, build from the profile, lint, sign, store — exactly once.

Safe under redelivery and with several workers: the claim is a conditional UPDATE with a
token, and the result is stored only if the order is still claimed with that token (checked
under ``select_for_update``); the database's unique indexes (one certificate per order and per
enrollment) are the last line of defence.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ca import profiles
from ca.csr_policy import CsrRejected, check_csr
from ca.keys import KeysUnavailable
from ca.models import (
    AuditEntry,
    AuditEvent,
    Certificate,
    CertificateAuthority,
    Order,
    OrderStatus,
    sha256_hex,
)
from ca.signing import LintFailed, sign_certificate

logger = logging.getLogger(__name__)

ACTOR = "system:worker"


class IssuanceFailed(Exception):
    def __init__(self, code: str, details: dict[str, object] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.details = details or {}


@dataclass(frozen=True)
class Outcome:
    """What ``sign_order`` did: ``status`` is the order's status, ``busy`` that another
    worker holds an unexpired claim (the task retries after the lease)."""

    status: str
    busy: bool = False


def issue_order(order_id: int) -> Outcome:
    token = Order.objects.claim(order_id, settings.CA_ORDER_LEASE_SECONDS)
    if token is None:
        order = Order.objects.filter(pk=order_id).only("status", "attempts").first()
        if order is None:
            return Outcome("missing")
        if (
            order.status == OrderStatus.PROCESSING
            and order.attempts < settings.CA_ORDER_MAX_ATTEMPTS
        ):
            return Outcome(order.status, busy=True)
        return Outcome(order.status)
    _test_delay()
    try:
        stored = _issue(order_id, token)
    except IssuanceFailed as failure:
        _record_failure(order_id, token, failure)
        return Outcome(OrderStatus.FAILED)
    if not stored:  # another worker took the order over; it reports the result
        status = Order.objects.filter(pk=order_id).values_list("status", flat=True).first()
        return Outcome(status or "missing")
    return Outcome(OrderStatus.ISSUED)


def _test_delay() -> None:
    # Lets the integration tests SIGKILL a worker in the middle of a task: while the file
    # named by CA_TEST_PAUSE_FILE exists, signing waits. Honoured in test mode only.
    pause_file = os.environ.get("CA_TEST_PAUSE_FILE", "")
    if not pause_file or settings.PORTAL_MODE != "test":
        return
    deadline = time.monotonic() + 120
    while os.path.exists(pause_file) and time.monotonic() < deadline:
        time.sleep(0.05)


def _issue(order_id: int, token: uuid.UUID) -> bool:
    order = Order.objects.select_related("enrollment__holder__organisation").get(pk=order_id)
    enrollment = order.enrollment
    holder = enrollment.holder
    try:
        csr = check_csr(bytes(order.csr_der))
    except CsrRejected as rejected:
        raise IssuanceFailed(rejected.code) from None
    ca = CertificateAuthority.objects.current_issuing()
    if ca is None:
        raise IssuanceFailed("no_issuing_ca")
    now = timezone.now().replace(microsecond=0)
    builder = profiles.end_entity(
        order.profile,
        profiles.Holder(
            certificate_name=enrollment.certificate_name,
            display_name=holder.display_name,
            user_number=holder.user_number,
            organisation=holder.organisation.name,
        ),
        csr.public_key,
        ca,
        now,
    )
    try:
        certificate = sign_certificate(builder, ca.signing_key(), ca.certificate)
    except LintFailed as failed:
        raise IssuanceFailed(
            "lint_failed", {"findings": [str(f) for f in failed.findings]}
        ) from None
    except KeysUnavailable:
        logger.exception("the issuing CA key is unavailable")
        raise IssuanceFailed("key_unavailable") from None
    return _store(order, token, ca, certificate)


def _store(
    order: Order, token: uuid.UUID, ca: CertificateAuthority, certificate: x509.Certificate
) -> bool:
    der = certificate.public_bytes(serialization.Encoding.DER)
    with transaction.atomic():
        # Still ours? A worker that lost its lease (it was paused or slow) must not store.
        claimed = (
            Order.objects.select_for_update()
            .filter(pk=order.pk, status=OrderStatus.PROCESSING, claim_token=token)
            .exists()
        )
        if not claimed:
            logger.info("order %s was taken over by another worker; not storing", order.pk)
            return False
        try:
            with transaction.atomic():
                issued = Certificate.objects.create(
                    order=order,
                    enrollment=order.enrollment,
                    issuer=ca,
                    profile=order.profile,
                    serial_hex=format(certificate.serial_number, "x"),
                    der=der,
                    sha256_hex=sha256_hex(der),
                    sha1_hex=certificate.fingerprint(hashes.SHA1()).hex(),  # noqa: S303 - a fingerprint
                    subject=certificate.subject.rfc4514_string(),
                    not_before=certificate.not_valid_before_utc,
                    not_after=certificate.not_valid_after_utc,
                )
        except IntegrityError:
            # The enrollment already has a certificate (from another order): never a second.
            raise IssuanceFailed("already_issued") from None
        now = timezone.now()
        Order.objects.filter(pk=order.pk).update(
            status=OrderStatus.ISSUED, error_code="", updated_at=now, finished_at=now
        )
        order.enrollment.mark_issued()
        AuditEntry.objects.record(
            AuditEvent.LINT_PASSED, order, actor=ACTOR, details={"serial": issued.serial_hex}
        )
        AuditEntry.objects.record(
            AuditEvent.CERTIFICATE_ISSUED,
            issued,
            actor=ACTOR,
            details={
                "order": order.pk,
                "serial": issued.serial_hex,
                "sha256": issued.sha256_hex,
                "subject": issued.subject,
                "issuer": ca.slug,
            },
        )
    _presign_ocsp(issued, ca)
    return True


def _presign_ocsp(issued: Certificate, ca: CertificateAuthority) -> None:
    """Sign the first OCSP answer right away; if that fails the periodic refresh catches up."""
    from ca.ocsp import refresh_responses

    try:
        refresh_responses(ca, certificate_ids=[issued.pk])
    except Exception:
        logger.exception("could not pre-sign the OCSP answer for %s", issued.serial_hex)


def _record_failure(order_id: int, token: uuid.UUID, failure: IssuanceFailed) -> None:
    with transaction.atomic():
        if not Order.objects.fail(order_id, failure.code, token=token):
            return
        order = Order(pk=order_id)
        if failure.code == "lint_failed":
            AuditEntry.objects.record(
                AuditEvent.LINT_FAILED, order, actor=ACTOR, details=failure.details
            )
        AuditEntry.objects.record(
            AuditEvent.ORDER_FAILED, order, actor=ACTOR, details={"error_code": failure.code}
        )
