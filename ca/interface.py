"""The certificate authority's one door: everything the RA and the site import from ``ca``.

Instructions come in through the functions below; results go out as signals (ca.signals)
under the RA's own references, so the CA never imports the RA or the site (an import
contract in ``make lint`` holds this). CRL and OCSP stay the CA's own business, behind its
URLs (ca/urls.py).

- Ordering: ``check_csr`` (the CSR policy), then ``order_certificate(OrderRequest)``; the
  signing task is queued when the caller's transaction commits.
- Reading: ``order_progress(reference)`` for the step-7 page and the installers;
  ``certificate_for``, ``certificate_by_fingerprint`` and the ``Certificate`` records.
- Revoking: ``revoke_holder_certificates`` and ``release_holder_certificates`` (a holder's
  block and unblock), ``Certificate.revoke`` for one certificate.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db import IntegrityError, connections, transaction
from django.db.models import Count
from django.utils import timezone

from ca import health, profiles, server_certificate
from ca.crl import trust_files
from ca.csr_policy import (
    ALLOWED_CURVES,
    CSR_ERRORS,
    MAX_CSR_BYTES,
    RSA_MAX_BITS,
    RSA_MIN_BITS,
    AcceptedCsr,
    CsrRejected,
    check_csr,
)
from ca.models import (
    Certificate,
    CertificateAuthority,
    CertificateQuerySet,
    Order,
    OrderStatus,
    RevocationReason,
)
from ca.order_request import OrderRequest, Subject
from ca.signals import (
    FailedOrder,
    IssuedCertificate,
    certificates_issued,
    orders_failed,
    signing_started,
)

__all__ = [
    "ALLOWED_CURVES",
    "CSR_ERRORS",
    "MAX_CSR_BYTES",
    "RSA_MAX_BITS",
    "RSA_MIN_BITS",
    "AcceptedCsr",
    "Certificate",
    "CertificateQuerySet",
    "CsrRejected",
    "FailedOrder",
    "IssuedCertificate",
    "OrderProgress",
    "OrderRequest",
    "OrderStatus",
    "Placed",
    "RevocationReason",
    "ServerCredentials",
    "Subject",
    "ca_status",
    "certificate_by_fingerprint",
    "certificate_for",
    "certificates_issued",
    "check_csr",
    "client_ca_bundle",
    "crl_ages",
    "current_root",
    "development_server_credentials",
    "est_ca_certificates",
    "expiring_certificates",
    "failed_for_key",
    "issuance_durations",
    "issued_under",
    "key_status",
    "order_certificate",
    "order_counts",
    "order_progress",
    "orders_failed",
    "release_holder_certificates",
    "revoke_holder_certificates",
    "signing_started",
    "subject_name",
]

ServerCredentials = server_certificate.ServerCredentials
ca_status: Callable[[], str] = health.ca_status
key_status: Callable[[], str] = health.key_status


# --- Ordering ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """What ``order_certificate`` did.

    ``ordered``: a new order. ``same_key``: the reference has a live order for the same
    public key (a retried request); ``other_key``: for another key (a second installer).
    ``collided``: a live order was being placed at the same moment and failed since.
    ``status`` is the live order's (OrderStatus), empty for ``collided``.
    """

    outcome: Literal["ordered", "same_key", "other_key", "collided"]
    status: str


def order_certificate(
    request: OrderRequest, *, actor: str, client_address: str | None = None
) -> Placed:
    """Order a certificate; at most one live order per reference, however often asked.

    The unique index on live orders decides between concurrent submissions (the later ones
    wait for the first to commit), so the common case needs no lock or lookup.
    """
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives
            Order.objects.place(request, actor=actor, client_address=client_address)
    except IntegrityError:
        live = (
            Order.objects.filter(reference=request.reference)
            .exclude(status=OrderStatus.FAILED)
            .values_list("status", "csr_der")
            .first()
        )
        if live is None:
            return Placed("collided", "")
        status, csr_der = live
        earlier = x509.load_der_x509_csr(bytes(csr_der)).public_key()
        same = _spki(earlier) == _spki(request.csr.public_key)
        return Placed("same_key" if same else "other_key", status)
    return Placed("ordered", OrderStatus.PENDING)


def _spki(public_key: object) -> bytes:
    return public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# --- Reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderProgress:
    """The newest order under a reference and, once issued, its certificate."""

    status: str
    error_code: str = ""
    certificate_id: int | None = None
    sha1: str | None = None
    serial: str | None = None


@cache
def _progress_sql() -> str:
    # Asked on every installer status poll and every wake-up of a long poll, so it is
    # hand-written: Django takes longer to compile the queryset than the database needs to
    # answer it from the (reference, created_at) index. Only table names are put in.
    sql = """
        SELECT o.status, o.error_code, c.id, c.sha1_hex, c.serial_hex
        FROM {orders} o LEFT JOIN {certificates} c ON c.order_id = o.id
        WHERE o.reference = %s
        ORDER BY o.created_at DESC, o.id DESC
        LIMIT 1
    """
    return sql.format(orders=Order._meta.db_table, certificates=Certificate._meta.db_table)


def order_progress(reference: uuid.UUID, *, using: str = "default") -> OrderProgress | None:
    """The CA's state of the newest order under ``reference``; None if there is none."""
    connection = connections[using]
    value = Order._meta.get_field("reference").get_db_prep_value(reference, connection)
    with connection.cursor() as cursor:
        cursor.execute(_progress_sql(), [value])
        row = cursor.fetchone()
    if row is None:
        return None
    status, error_code, certificate_id, sha1, serial = row
    return OrderProgress(status, error_code or "", certificate_id, sha1, serial)


def failed_for_key(reference: uuid.UUID, csr: AcceptedCsr) -> str | None:
    """The error code of the newest order under ``reference`` if it failed for this very
    key: a client that repeats its request must hear the failure, not cause a new order."""
    newest = (
        Order.objects.filter(reference=reference)
        .order_by("-created_at", "-pk")
        .values_list("status", "error_code", "csr_der")
        .first()
    )
    if newest is None or newest[0] != OrderStatus.FAILED:
        return None
    _status, error_code, csr_der = newest
    earlier = x509.load_der_x509_csr(bytes(csr_der)).public_key()
    return (error_code or "failed") if _spki(earlier) == _spki(csr.public_key) else None


def certificate_for(reference: uuid.UUID) -> Certificate | None:
    """The certificate issued under ``reference``, with its issuer (for the chain)."""
    return Certificate.objects.select_related("issuer").filter(reference=reference).first()


def issued_under(references: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The certificates issued under these references, by reference (those that have one)."""
    if not references:
        return {}
    return dict(Certificate.objects.filter(reference__in=references).values_list("reference", "pk"))


def certificate_by_fingerprint(sha256_hex: str) -> Certificate | None:
    return Certificate.objects.filter(sha256_hex=sha256_hex).first()


def current_root() -> CertificateAuthority | None:
    return CertificateAuthority.objects.current_root()


def est_ca_certificates() -> list[x509.Certificate]:
    """What EST's ``cacerts`` hands out (RFC 7030 section 4.1): every unexpired CA, roots
    and issuing CAs, so that a client can build the chain of a certificate issued before a
    rollover too. (PKCS#7 holds them as a DER SET OF, which has no order of its own.)"""
    return [authority.certificate for authority in CertificateAuthority.objects.serving()]


def subject_name(subject: Subject) -> x509.Name:
    """The subject the CA writes for these data (what a renewal's CSR must match)."""
    return profiles.subject_for(subject)


def client_ca_bundle() -> bytes:
    """The PEM chain of every CA that still serves: what a TLS server verifies clients with."""
    return trust_files()["client-ca.pem"]


# --- The embedded development server ------------------------------------------------------


def development_server_credentials(
    hosts: list[str], earlier_chain: bytes = b""
) -> ServerCredentials | None:
    """A TLS server certificate from this CA for ``hosts`` (development only, see
    ca/server_certificate.py); None when ``earlier_chain`` can still be served."""
    if earlier_chain and server_certificate.still_good(earlier_chain, hosts):
        return None
    return server_certificate.issue(hosts)


# --- Revoking ----------------------------------------------------------------------------


def revoke_holder_certificates(
    holder: str,
    reason: str = RevocationReason.CERTIFICATE_HOLD,
    *,
    actor: str,
    client_address: str | None = None,
) -> int:
    """Revoke (by default: put on hold) all unexpired certificates of the holder that the RA
    calls ``holder``, in the caller's transaction; how many were revoked now."""
    revoked = (
        Certificate.objects.of_holder(holder)
        .unexpired()
        .revoke(reason, actor=actor, client_address=client_address)
    )
    return len(revoked)


def release_holder_certificates(
    holder: str, *, actor: str, client_address: str | None = None
) -> int:
    """Lift the hold on a holder's certificates (after unblocking); other revocations stay."""
    return len(
        Certificate.objects.of_holder(holder).release_hold(
            actor=actor, client_address=client_address
        )
    )


# --- Figures for /metrics ----------------------------------------------------------------


def order_counts() -> dict[str, int]:
    """Orders by status, every status present."""
    counts = dict(Order.objects.values_list("status").annotate(n=Count("pk")))
    return {status: counts.get(status, 0) for status in OrderStatus.values}


def issuance_durations(since: datetime) -> list[float]:
    """Seconds from order to stored certificate, for certificates issued since ``since``."""
    return [
        (issued - created).total_seconds()
        for created, issued in Certificate.objects.filter(issued_at__gte=since).values_list(
            "order__created_at", "issued_at"
        )
    ]


def expiring_certificates(within: timedelta) -> dict[str, int]:
    """Unrevoked certificates that expire within ``within`` from now, by profile name."""
    now = timezone.now()
    counts = dict(
        Certificate.objects.filter(revoked_at=None, not_after__gt=now, not_after__lte=now + within)
        .values_list("profile")
        .annotate(n=Count("pk"))
    )
    return {name: counts.get(name, 0) for name in profiles.PROFILES}


def crl_ages() -> dict[str, float]:
    """Age in seconds of each serving CA's newest CRL, by the CA's short name."""
    now = timezone.now()
    ages = {}
    for authority in CertificateAuthority.objects.serving():
        latest = authority.latest_crl()
        if latest is not None:
            ages[authority.slug] = (now - latest.this_update).total_seconds()
    return ages
