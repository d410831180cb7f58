"""The CA's part of /healthz: answerable by the web tier (database only, no key)."""

from __future__ import annotations

from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from django.utils import timezone

from ca.models import CertificateAuthority


def ca_status() -> str:
    """``ok``, ``missing`` (no issuing CA: run init_ca), ``expired`` or ``crl_stale``.

    ``crl_stale`` means a serving CA's newest CRL is past its nextUpdate: the worker or beat
    has not refreshed it, so relying parties will soon refuse our certificates.
    """
    now = timezone.now()
    issuing = CertificateAuthority.objects.current_issuing()
    if issuing is None:
        return "missing"
    if issuing.not_after <= now:
        return "expired"
    for ca in CertificateAuthority.objects.serving():
        latest = ca.latest_crl()
        if latest is None or latest.next_update <= now:
            return "crl_stale"
    return "ok"


HEARTBEAT_MAX_AGE = timedelta(minutes=3)


def record_key_heartbeat() -> None:
    """In a worker: prove the issuing key signs (and verifies), and note when in the cache."""
    issuing = CertificateAuthority.objects.current_issuing()
    if issuing is None:
        return
    key = issuing.signing_key()
    probe = b"certificaatportaal signing-key heartbeat"
    algorithm = key.spec.hash_algorithm()
    signature = key.sign(probe, algorithm)
    public_key = issuing.certificate.public_key()
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, probe, padding.PKCS1v15(), algorithm)
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, probe, ec.ECDSA(algorithm))
    CertificateAuthority.objects.filter(pk=issuing.pk).update(key_checked_at=timezone.now())


def key_status() -> str:
    """``ok`` when a worker signed with the issuing key recently; the web tier has no key."""
    issuing = CertificateAuthority.objects.current_issuing()
    if issuing is None or issuing.key_checked_at is None:
        return "unknown"
    return "ok" if timezone.now() - issuing.key_checked_at <= HEARTBEAT_MAX_AGE else "stale"
