"""Creating the CA hierarchy: root, issuing CA (and its rollover), OCSP responder certificates.

Runs where the keys are (``manage.py init_ca`` on the worker side, or ``make run``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEntry, AuditEvent
from ca import profiles
from ca.crl import publish_crl
from ca.fingerprints import sha256_hex
from ca.keys import KeySpec, get_backend, load_key
from ca.models import CaKind, CertificateAuthority, OcspResponder
from ca.signing import sign_certificate

# The delegated OCSP key is a software key: the responder needs a key object that
# cryptography's OCSP builder can use, and it is not a CA key (RFC 6960 §4.2.2.2).
RESPONDER_KEY_BACKEND = "file"


@dataclass(frozen=True)
class HierarchyOptions:
    root_key_type: str
    issuing_key_type: str
    root_days: int
    issuing_days: int

    @classmethod
    def from_settings(cls) -> HierarchyOptions:
        return cls(
            root_key_type=settings.CA_ROOT_KEY_TYPE,
            issuing_key_type=settings.CA_ISSUING_KEY_TYPE,
            root_days=settings.CA_ROOT_VALIDITY_DAYS,
            issuing_days=settings.CA_ISSUING_VALIDITY_DAYS,
        )


def key_hash_sha1(certificate: x509.Certificate) -> str:
    """SHA-1 over the subjectPublicKey BIT STRING's value, as in an OCSP CertID."""
    return x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest.hex()


def _free_slug(base: str) -> str:
    slug, n = base, 1
    while CertificateAuthority.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _save_ca(
    *,
    kind: str,
    slug: str,
    common_name: str,
    certificate: x509.Certificate,
    parent: CertificateAuthority | None,
    key_ref: str,
    actor: str,
) -> CertificateAuthority:
    der = certificate.public_bytes(serialization.Encoding.DER)
    with transaction.atomic():
        # Rollover: the previous CA of this kind stops signing new certificates but keeps
        # serving its CRL and OCSP (CertificateAuthority.objects.serving()).
        CertificateAuthority.objects.filter(kind=kind, active=True).update(active=False)
        ca = CertificateAuthority.objects.create(
            slug=slug,
            kind=kind,
            parent=parent,
            common_name=common_name,
            certificate_der=der,
            serial_hex=format(certificate.serial_number, "x"),
            sha256_hex=sha256_hex(der),
            key_hash_sha1=key_hash_sha1(certificate),
            key_backend=settings.CA_KEY_BACKEND,
            key_ref=key_ref,
            key_generated_here=True,
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            active=True,
        )
        AuditEntry.objects.record(
            AuditEvent.CA_CREATED,
            ca,
            actor=actor,
            details={
                "kind": kind,
                "subject": certificate.subject.rfc4514_string(),
                "sha256": ca.sha256_hex,
                "key_backend": ca.key_backend,
                "key_type": KeySpec.of(certificate.public_key()).name,  # type: ignore[arg-type]
                "not_after": ca.not_after.isoformat(),
            },
        )
    return ca


def create_root(
    options: HierarchyOptions, *, actor: str, now: datetime | None = None
) -> CertificateAuthority:
    now = now or timezone.now()
    slug = _free_slug(f"root-{now:%Y}")
    key_ref = f"{slug}-{secrets.token_hex(4)}"
    key = get_backend().generate(key_ref, KeySpec(options.root_key_type))
    common_name = f"{settings.CA_NAME} Root CA {now:%Y}"
    builder = profiles.root_ca(common_name, key.public_key(), now, options.root_days)
    certificate = sign_certificate(builder, key)
    return _save_ca(
        kind=CaKind.ROOT,
        slug=slug,
        common_name=common_name,
        certificate=certificate,
        parent=None,
        key_ref=key_ref,
        actor=actor,
    )


def create_issuing(
    root: CertificateAuthority,
    options: HierarchyOptions,
    *,
    actor: str,
    now: datetime | None = None,
) -> CertificateAuthority:
    now = now or timezone.now()
    slug = _free_slug(f"issuing-{now:%Y}")
    key_ref = f"{slug}-{secrets.token_hex(4)}"
    key = get_backend().generate(key_ref, KeySpec(options.issuing_key_type))
    common_name = f"{settings.CA_NAME} Issuing CA {now:%Y}"
    if CertificateAuthority.objects.filter(common_name=common_name).exists():
        common_name = f"{common_name} {slug.rsplit('-', 1)[-1]}"
    builder = profiles.issuing_ca(common_name, key.public_key(), root, now, options.issuing_days)
    certificate = sign_certificate(builder, root.signing_key(), root.certificate)
    return _save_ca(
        kind=CaKind.ISSUING,
        slug=slug,
        common_name=common_name,
        certificate=certificate,
        parent=root,
        key_ref=key_ref,
        actor=actor,
    )


def ensure_ocsp_responder(
    ca: CertificateAuthority, *, actor: str = "system:worker", now: datetime | None = None
) -> OcspResponder:
    """The CA's current responder; a new one when none has a third of its lifetime left."""
    now = now or timezone.now()
    days = settings.CA_OCSP_RESPONDER_VALIDITY_DAYS
    current = ca.ocsp_responders.filter(not_after__gt=now + timedelta(days=days / 3)).first()
    if current is not None:
        return current
    key_ref = f"ocsp-{ca.slug}-{secrets.token_hex(4)}"
    key = get_backend(RESPONDER_KEY_BACKEND).generate(
        key_ref, KeySpec(settings.CA_OCSP_RESPONDER_KEY_TYPE)
    )
    certificate = sign_certificate(
        profiles.ocsp_responder(key.public_key(), ca, now, days), ca.signing_key(), ca.certificate
    )
    with transaction.atomic():
        responder = OcspResponder.objects.create(
            ca=ca,
            certificate_der=certificate.public_bytes(serialization.Encoding.DER),
            key_ref=key_ref,
            not_after=certificate.not_valid_after_utc,
        )
        AuditEntry.objects.record(
            AuditEvent.OCSP_RESPONDER_CREATED,
            responder,
            actor=actor,
            details={"ca": ca.slug, "sha256": certificate.fingerprint(hashes.SHA256()).hex()},
        )
    return responder


def responder_key(responder: OcspResponder) -> object:
    return load_key(RESPONDER_KEY_BACKEND, responder.key_ref, generated_here=True)


def init_hierarchy(
    options: HierarchyOptions, *, rollover: bool = False, actor: str = "system:init_ca"
) -> list[str]:
    """Create what is missing (idempotent); with ``rollover`` always a new issuing CA."""
    messages = []
    root = CertificateAuthority.objects.current_root()
    if root is None:
        root = create_root(options, actor=actor)
        publish_crl(root.pk, actor=actor)
        messages.append(f"Created root CA {root.common_name} ({root.sha256_colon})")
    issuing = CertificateAuthority.objects.current_issuing()
    if issuing is None or rollover:
        previous = issuing
        issuing = create_issuing(root, options, actor=actor)
        publish_crl(issuing.pk, actor=actor)
        messages.append(f"Created issuing CA {issuing.common_name} ({issuing.sha256_colon})")
        if previous is not None:
            messages.append(f"{previous.common_name} keeps serving CRL and OCSP until it expires")
    ensure_ocsp_responder(issuing, actor=actor)
    return messages
