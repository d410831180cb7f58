"""Signing an order: claim, re-verify, build from the profile, lint, sign, store — exactly once.

Safe under redelivery and with several workers: the claim is a conditional UPDATE with a
token, and the result is stored only if the order is still claimed with that token (checked
under ``select_for_update``); the database's unique indexes (one certificate per order and per
reference) are the last line of defence.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from audit.models import AuditEntry, AuditEvent
from ca import profiles
from ca.authority import ensure_ocsp_responder
from ca.csr_policy import CsrRejected, check_csr
from ca.fingerprints import sha256_hex
from ca.keys import KeysUnavailable
from ca.models import (
    Certificate,
    CertificateAuthority,
    OcspResponder,
    Order,
    OrderStatus,
)
from ca.ocsp import sign_response
from ca.order_request import Subject
from ca.signals import (
    FailedOrder,
    IssuedCertificate,
    certificates_issued,
    orders_failed,
    report,
    signing_started,
)
from ca.signing import LintFailed, linted_draft, sign_certificate, throwaway_key

logger = logging.getLogger(__name__)

ACTOR = "system:worker"


class IssuanceFailed(Exception):
    def __init__(self, code: str, details: dict[str, object] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.details = details or {}


class SignerUnavailable(Exception):
    """The issuing key cannot be used in this process right now."""


@dataclass(frozen=True)
class Outcome:
    """What ``sign_order`` did: ``status`` is the order's status; ``retry_after_lease`` that
    the task should look again once the order's claim has run out."""

    status: str
    retry_after_lease: bool = False


def issue_order(order_id: int, *, redelivered: bool = False) -> Outcome:
    """Sign order ``order_id`` and, in the same go, up to CA_SIGNING_BATCH - 1 others waiting.

    ``redelivered``: the broker hands out this task's message again, because the worker
    that had it was lost (see ``Outcome``).
    """
    # Under load most tasks find their order signed, or being signed, in another task's
    # batch: one read answers them; the claim below is what decides between racing workers.
    # Whether a processing order's lease ran out is the queryset's rule (lease_expired), asked
    # in the same read as a subquery, so that rule is written once.
    lease_ran_out = timezone.now() - timedelta(seconds=settings.CA_ORDER_LEASE_SECONDS)
    expired = Order.objects.get_queryset().lease_expired(lease_ran_out).filter(pk=OuterRef("pk"))
    known = (
        Order.objects.filter(pk=order_id).values_list("status", "attempts", Exists(expired)).first()
    )
    if known is None:
        return Outcome("missing")
    status, attempts, lease_expired = known
    if status in (OrderStatus.ISSUED, OrderStatus.FAILED):
        return Outcome(status)
    if status == OrderStatus.PROCESSING and not lease_expired:
        return _held_elsewhere(status, attempts, redelivered)  # the claim would fail
    token = Order.objects.claim(order_id, settings.CA_ORDER_LEASE_SECONDS)
    if token is None:
        status, attempts = Order.objects.filter(pk=order_id).values_list("status", "attempts").get()
        return _held_elsewhere(status, attempts, redelivered)
    # When orders queue up (a burst of installers, a mass re-issuance), one claim, one
    # transaction and one audit lock serve several of them.
    claimed = [
        order_id,
        *Order.objects.claim_more(
            token, settings.CA_SIGNING_BATCH - 1, settings.CA_ORDER_LEASE_SECONDS
        ),
    ]
    loaded = Order.objects.in_bulk(claimed)
    orders = [loaded[pk] for pk in claimed if pk in loaded]
    # The RA wakes waiting installers and step-7 pages on each report (ca.signals).
    report(signing_started, references=[order.reference for order in orders])
    return _issue_claimed(orders, token).get(order_id, Outcome("missing"))


def _held_elsewhere(status: str, attempts: int, redelivered: bool) -> Outcome:
    """Another claim holds the order (or it finished meanwhile).

    On a first delivery that is a live task that took it into its batch (or a duplicate of
    this task): it finishes the order, and if its worker dies, that task's redelivery or the
    sweep takes the claim over. A redelivered task's own earlier delivery may have died
    holding the claim: it looks again once the lease has run out.
    """
    retry = (
        redelivered
        and status == OrderStatus.PROCESSING
        and attempts < settings.CA_ORDER_MAX_ATTEMPTS
    )
    return Outcome(status, retry_after_lease=retry)


def _issue_claimed(orders: list[Order], token: uuid.UUID) -> dict[int, Outcome]:
    """Sign each claimed order, then store all certificates in one transaction."""
    outcomes: dict[int, Outcome] = {}
    signed: list[tuple[Order, x509.Certificate]] = []
    signer = _current_signer()
    for position, order in enumerate(orders):
        try:
            signed.append((order, _sign(order, signer)))
        except SignerUnavailable:
            # An HSM or key file that cannot be used now may be back soon: the orders keep
            # their claim, and their tasks retry once the lease has run out, as after a dead
            # worker. Each claim counts as an attempt; an order whose key never comes back
            # is failed ("stuck") by the sweep after CA_ORDER_MAX_ATTEMPTS.
            for waiting in orders[position:]:
                outcomes[waiting.pk] = Outcome(OrderStatus.PROCESSING, retry_after_lease=True)
            break
        except IssuanceFailed as failure:
            _record_failure(order.pk, token, failure)
            outcomes[order.pk] = Outcome(OrderStatus.FAILED)
    records: list[tuple[Order, Certificate]] = []
    if signer is not None and signed:
        records = [(order, _record(order, certificate, signer)) for order, certificate in signed]
        for order_id, status in _store(records, token, signer.ca).items():
            outcomes[order_id] = Outcome(status)
    _report(orders, outcomes, records)
    return outcomes


def _report(
    orders: list[Order], outcomes: dict[int, Outcome], records: list[tuple[Order, Certificate]]
) -> None:
    """Tell the RA what became of the orders, now that the transactions are done."""
    issued = [
        IssuedCertificate(order.reference, certificate.pk)
        for order, certificate in records
        # (the id is None only where the database returns no ids from a bulk insert; the RA
        # then finds the certificate through order_progress)
        if outcomes[order.pk].status == OrderStatus.ISSUED and certificate.pk is not None
    ]
    if issued:
        report(certificates_issued, issued=issued)
    failed = [order.pk for order in orders if outcomes[order.pk].status == OrderStatus.FAILED]
    if failed:
        report_failures(failed)


def report_failures(order_ids: list[int]) -> None:
    """Send ``orders_failed`` for these failed orders, with their error codes."""
    failures = [
        FailedOrder(reference, error_code)
        for reference, error_code in Order.objects.filter(
            pk__in=order_ids, status=OrderStatus.FAILED
        ).values_list("reference", "error_code")
    ]
    if failures:
        report(orders_failed, failed=failures)


def _sign(order: Order, signer: _Signer | None) -> x509.Certificate:
    try:
        csr = check_csr(bytes(order.csr_der))
    except CsrRejected as rejected:
        raise IssuanceFailed(rejected.code) from None
    if signer is None:
        raise IssuanceFailed("no_issuing_ca")
    ca = signer.ca
    now = timezone.now().replace(microsecond=0)
    builder = profiles.end_entity(order.profile, Subject(**order.subject), csr.public_key, ca, now)
    try:
        return sign_certificate(builder, ca.signing_key(), ca.certificate)
    except LintFailed as failed:
        raise IssuanceFailed(
            "lint_failed", {"findings": [str(f) for f in failed.findings]}
        ) from None
    except KeysUnavailable:
        logger.exception("the issuing CA key is unavailable; order %s goes back", order.pk)
        raise SignerUnavailable from None


def _store(
    records: list[tuple[Order, Certificate]], token: uuid.UUID, ca: CertificateAuthority
) -> dict[int, str]:
    """Store the certificates of orders still claimed with ``token``; each order's status.

    An order whose reference got a certificate meanwhile (from another order) breaks the
    transaction on the database's unique index: then each is stored on its own, and that
    one fails with ``already_issued``, never a second certificate.
    """
    try:
        with transaction.atomic():
            return _store_records(records, token, ca)
    except IntegrityError:
        if len(records) > 1:
            statuses: dict[int, str] = {}
            for record in records:
                statuses.update(_store([record], token, ca))
            return statuses
    order_id = records[0][0].pk
    _record_failure(order_id, token, IssuanceFailed("already_issued"))
    return {order_id: OrderStatus.FAILED}


def _record(order: Order, certificate: x509.Certificate, signer: _Signer) -> Certificate:
    der = certificate.public_bytes(serialization.Encoding.DER)
    issued = Certificate(
        order=order,
        reference=order.reference,
        holder_reference=order.holder_reference,
        issuer=signer.ca,
        profile=order.profile,
        serial_hex=format(certificate.serial_number, "x"),
        der=der,
        sha256_hex=sha256_hex(der),
        sha1_hex=certificate.fingerprint(hashes.SHA1()).hex(),  # noqa: S303 - a fingerprint
        subject=certificate.subject.rfc4514_string(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
    )
    # The first OCSP answer is signed before the transaction and stored with the
    # certificate: no moment at which the responder does not know an issued certificate.
    issued.ocsp_response_der, issued.ocsp_next_update = _first_ocsp_answer(issued, signer)
    return issued


def _store_records(
    records: list[tuple[Order, Certificate]], token: uuid.UUID, ca: CertificateAuthority
) -> dict[int, str]:
    # Still ours? A worker that lost its lease (it was paused or slow) must not store.
    # The rows stay locked until the commit.
    ours = set(
        Order.objects.select_for_update()
        .filter(
            pk__in=[order.pk for order, _ in records],
            status=OrderStatus.PROCESSING,
            claim_token=token,
        )
        .values_list("pk", flat=True)
    )
    statuses: dict[int, str] = {}
    mine: list[tuple[Order, Certificate]] = []
    for order, issued in records:
        if order.pk in ours:
            mine.append((order, issued))
            statuses[order.pk] = OrderStatus.ISSUED
        else:
            logger.info("order %s was taken over by another worker; not storing", order.pk)
            # The other worker reports the result; this task answers what it knows now.
            statuses[order.pk] = OrderStatus.PROCESSING
    if not mine:
        return statuses
    now = timezone.now()
    Certificate.objects.bulk_create([issued for _, issued in mine])
    Order.objects.filter(pk__in=[order.pk for order, _ in mine]).update(
        status=OrderStatus.ISSUED, error_code="", updated_at=now, finished_at=now
    )
    events: list[tuple[str, models.Model | None, dict[str, object] | None]] = []
    for order, issued in mine:
        events.append((AuditEvent.LINT_PASSED, order, {"serial": issued.serial_hex}))
        events.append(
            (
                AuditEvent.CERTIFICATE_ISSUED,
                issued,
                {
                    "order": order.pk,
                    "serial": issued.serial_hex,
                    "sha256": issued.sha256_hex,
                    "subject": issued.subject,
                    "issuer": ca.slug,
                },
            )
        )
    AuditEntry.objects.record_many(events, actor=ACTOR)
    return statuses


def _first_ocsp_answer(
    issued: Certificate, signer: _Signer
) -> tuple[bytes | None, datetime | None]:
    """A "good" answer for a certificate about to be stored; None if the responder fails,
    in which case the periodic refresh signs it."""
    if signer.responder is None:
        return None, None
    try:
        return sign_response(issued, signer.ca, signer.responder, timezone.now())
    except Exception:
        logger.exception("could not pre-sign the OCSP answer for %s", issued.serial_hex)
        return None, None


@dataclass(frozen=True)
class _Signer:
    ca: CertificateAuthority
    responder: OcspResponder | None
    until: float


_signer: _Signer | None = None


def _current_signer() -> _Signer | None:
    """The issuing CA and its OCSP responder, looked up at most every few seconds.

    Both change only at a rollover or a responder renewal, and a certificate signed by the
    previous CA for a few seconds more is as valid as any: two queries less per certificate
    (CA_SIGNER_CACHE_SECONDS; 0 looks them up every time).
    """
    global _signer
    now = time.monotonic()
    if _signer is not None and _signer.until > now:
        return _signer
    ca = CertificateAuthority.objects.current_issuing()
    if ca is None:
        return None
    try:
        responder: OcspResponder | None = ensure_ocsp_responder(ca)
    except Exception:
        logger.exception("no OCSP responder for %s; answers are signed later", ca.slug)
        responder = None
    _signer = _Signer(ca, responder, now + settings.CA_SIGNER_CACHE_SECONDS)
    return _signer


def prepare_signing() -> None:
    """What the first order of a worker process would otherwise wait for (about 0.5 s):
    pkilint imported and its validator built, the issuing key loaded, the issuing CA and
    OCSP responder looked up. Called when a worker process starts (ca.tasks).

    The lint runs on a draft signed with this process's throwaway key; the CA key signs
    nothing here.
    """
    signer = _current_signer()
    if signer is None:
        return
    spec = signer.ca.signing_key().spec
    builder = profiles.end_entity(
        "personal",
        Subject(
            certificate_name="WARMUP",
            display_name="Warm-up",
            user_number="00000000000000",
            organisation="Warm-up",
        ),
        throwaway_key(spec).public_key(),
        signer.ca,
        timezone.now().replace(microsecond=0),
    )
    linted_draft(builder, spec)
    logger.info("worker process %d is ready to sign for %s", os.getpid(), signer.ca.slug)


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
