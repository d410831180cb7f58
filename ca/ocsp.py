"""OCSP (RFC 6960) with responses pre-signed by the worker and served by the web tier.

Decision: pre-signed responses (the RFC 5019 "lightweight" model Let's Encrypt uses), not a
responder key on the web tier. The worker signs one response per certificate with a delegated
OCSP-signing key when it issues the certificate, again when it is revoked, and before each
response's nextUpdate; the web tier only looks bytes up. So no private key at all lives on
the web tier, and a compromised web process can neither forge "good" for a revoked
certificate nor sign anything else. The cost: no nonces (clients must accept responses
without one, as RFC 5019 requires) and CertIDs with SHA-1, the RFC 5019 default.

A certificate's stored "good" answer is deleted in the same transaction that revokes it, so
between the revocation and the worker's new answer the responder says "tryLater" rather than
"good".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ca.authority import ensure_ocsp_responder, responder_key
from ca.keys import SoftwareKey
from ca.models import Certificate, CertificateAuthority, OcspResponder
from ca.ocsp_cache import cache_key, cached, forget_cached_response, remember

MAX_REQUEST_BYTES = 8 * 1024


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER
    )


# --- web tier: look up ----------------------------------------------------------------


@dataclass(frozen=True)
class _Issuer:
    ca_id: int
    name_hash: bytes


# A CA's key and name never change, so each web process remembers which CA a CertID's key
# hash names: one database query less per OCSP request. Only CAs that exist are remembered
# (a bounded set); a CA created later, by a rollover, is looked up when first asked for.
_issuers: dict[str, _Issuer] = {}


def _issuer(key_hash: str) -> _Issuer | None:
    issuer = _issuers.get(key_hash)
    if issuer is None:
        ca = CertificateAuthority.objects.by_key_hash(key_hash)
        if ca is None:
            return None
        name_hash = hashlib.sha1(ca.certificate.subject.public_bytes()).digest()  # noqa: S324 - the CertID hash
        issuer = _issuers[key_hash] = _Issuer(ca.pk, name_hash)
    return issuer


def answer(request_der: bytes) -> bytes:
    """The DER OCSP response to a DER OCSP request (never raises for bad input)."""
    if len(request_der) > MAX_REQUEST_BYTES:
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        serial_hex = format(request.serial_number, "x")
        hash_algorithm = request.hash_algorithm
        key_hash = request.issuer_key_hash.hex()
        name_hash = request.issuer_name_hash
    except Exception:  # anything unreadable, including several requests in one
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    if not isinstance(hash_algorithm, hashes.SHA1):
        # Pre-signed answers carry SHA-1 CertIDs (RFC 5019 §2.1.1); others are not ours.
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    issuer = _issuer(key_hash)
    if issuer is None or issuer.name_hash != name_hash:
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    key = cache_key(issuer.ca_id, serial_hex)
    response = cached(key)
    if response is not None:
        return response
    row = (
        Certificate.objects.filter(issuer_id=issuer.ca_id, serial_hex=serial_hex)
        .values_list("ocsp_response_der", "ocsp_next_update")
        .first()
    )
    if row is None:
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    response_der, next_update = row
    now = timezone.now()
    if response_der is None or next_update is None or next_update <= now:
        return _unsuccessful(ocsp.OCSPResponseStatus.TRY_LATER)
    # A request that read the "good" row just before a revocation committed can put it back
    # into the cache after the revocation's on-commit delete; the worker's new answer deletes
    # the cache entry again (refresh_responses), so that window lasts until it has signed.
    timeout = min(settings.CA_OCSP_CACHE_SECONDS, int((next_update - now).total_seconds()))
    if timeout > 0:
        remember(key, bytes(response_der), timeout)
    return bytes(response_der)


# --- worker: sign ---------------------------------------------------------------------


def current_responder(ca: CertificateAuthority, now: datetime) -> OcspResponder | None:
    return ca.ocsp_responders.filter(not_after__gt=now).first()


def sign_response(
    certificate: Certificate, ca: CertificateAuthority, responder: OcspResponder, now: datetime
) -> tuple[bytes, datetime]:
    key = responder_key(responder)
    assert isinstance(key, SoftwareKey)
    now = now.replace(microsecond=0)
    next_update = min(now + timedelta(hours=settings.CA_OCSP_VALIDITY_HOURS), responder.not_after)
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=certificate.certificate,
        issuer=ca.certificate,
        algorithm=hashes.SHA1(),  # noqa: S303 - the CertID hash RFC 5019 requires, not a signature
        cert_status=ocsp.OCSPCertStatus.REVOKED
        if certificate.revoked_at
        else ocsp.OCSPCertStatus.GOOD,
        this_update=now,
        next_update=next_update,
        revocation_time=certificate.revoked_at,
        revocation_reason=(
            x509.ReasonFlags(certificate.revocation_reason)
            if certificate.revoked_at and certificate.revocation_reason != "unspecified"
            else None
        ),
    )
    response = (
        builder.responder_id(ocsp.OCSPResponderEncoding.HASH, responder.certificate)
        .certificates([responder.certificate])
        .sign(key.private_key, key.spec.hash_algorithm())
    )
    return response.public_bytes(serialization.Encoding.DER), next_update


def refresh_responses(
    ca: CertificateAuthority,
    *,
    now: datetime | None = None,
    limit: int = 10_000,
) -> int:
    """Sign answers for this CA's certificates that have none or whose answer is due."""
    now = now or timezone.now()
    responder = ensure_ocsp_responder(ca, now=now)
    renew_before = now + timedelta(hours=settings.CA_OCSP_VALIDITY_HOURS / 2)
    due = (
        Certificate.objects.filter(issuer=ca)
        .unexpired(now)
        .filter(Q(ocsp_response_der__isnull=True) | Q(ocsp_next_update__lte=renew_before))
        .order_by("pk")
    )
    done = 0
    for certificate in due[:limit]:
        response_der, next_update = sign_response(certificate, ca, responder, now)
        # Only store if the revocation state is still what was signed: a revocation that
        # committed meanwhile cleared the answer, and its own task signs the new one.
        stored = Certificate.objects.filter(
            pk=certificate.pk,
            revoked_at=certificate.revoked_at,
            revocation_reason=certificate.revocation_reason,
        ).update(ocsp_response_der=response_der, ocsp_next_update=next_update)
        if stored:
            forget_cached_response(ca.pk, certificate.serial_hex)
            done += 1
    return done
