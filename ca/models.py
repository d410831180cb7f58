"""The certificate authority's records: CAs, orders, certificates, CRLs and the audit log.

State changes are named methods doing a conditional UPDATE or working under
``select_for_update``, so two workers, a redelivered task and an admin can act at the same
time without issuing twice or losing a revocation.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry, AuditEvent
from ca import urls_public
from core.queue import queue_after_commit

if TYPE_CHECKING:
    from ca.keys import SigningKey
    from ca.order_request import OrderRequest

logger = logging.getLogger(__name__)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def colon_hex(hex_digest: str) -> str:
    """``AB:CD:…``, the way browsers and ``openssl x509 -fingerprint`` show fingerprints."""
    return ":".join(hex_digest[i : i + 2] for i in range(0, len(hex_digest), 2)).upper()


# --- Certificate authorities ------------------------------------------------------------


class CaKind(models.TextChoices):
    ROOT = "root", _("root CA")
    ISSUING = "issuing", _("issuing CA")


class CertificateAuthorityQuerySet(models.QuerySet["CertificateAuthority"]):
    def issuing(self) -> CertificateAuthorityQuerySet:
        return self.filter(kind=CaKind.ISSUING)

    def unexpired(self) -> CertificateAuthorityQuerySet:
        return self.filter(not_after__gt=timezone.now())

    def serving(self) -> CertificateAuthorityQuerySet:
        """CAs that must keep publishing CRLs and OCSP: unexpired ones.

        An issuing CA replaced by a rollover stays here until it expires, which is never
        before its last certificate (certificates are clamped to their issuer's validity).
        """
        return self.unexpired()


class CertificateAuthorityManager(models.Manager["CertificateAuthority"]):
    def get_queryset(self) -> CertificateAuthorityQuerySet:
        return CertificateAuthorityQuerySet(self.model, using=self._db)

    def current_root(self) -> CertificateAuthority | None:
        return self.filter(kind=CaKind.ROOT, active=True).first()

    def current_issuing(self) -> CertificateAuthority | None:
        return self.filter(kind=CaKind.ISSUING, active=True).first()

    def serving(self) -> CertificateAuthorityQuerySet:
        return self.get_queryset().serving()

    def by_key_hash(self, key_hash_sha1: str) -> CertificateAuthority | None:
        return self.filter(key_hash_sha1=key_hash_sha1).first()


class CertificateAuthority(models.Model):
    slug = models.SlugField(_("short name"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=CaKind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    common_name = models.CharField(_("name"), max_length=64)
    certificate_der = models.BinaryField()
    serial_hex = models.CharField(max_length=40)
    sha256_hex = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True)
    # SHA-1 of the public key's BIT STRING: how OCSP requests name their issuer (RFC 6960).
    key_hash_sha1 = models.CharField(max_length=40, db_index=True)
    key_backend = models.CharField(max_length=20)
    key_ref = models.CharField(max_length=100)
    key_generated_here = models.BooleanField(default=True)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField(_("valid until"))
    # The one CA of each kind that signs new certificates; older ones keep serving CRL/OCSP.
    active = models.BooleanField(_("active"), default=True)
    crl_number = models.BigIntegerField(default=0)
    # When a worker last signed with this CA's key (ca.key_heartbeat): /readyz reads it.
    key_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CertificateAuthorityManager()

    class Meta:
        ordering = ["kind", "-created_at"]
        verbose_name = _("certificate authority")
        verbose_name_plural = _("certificate authorities")
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(active=True), name="ca_one_active_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return self.common_name

    @cached_property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(bytes(self.certificate_der))

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def sha256_colon(self) -> str:
        return colon_hex(self.sha256_hex)

    @property
    def subject_key_identifier(self) -> x509.SubjectKeyIdentifier:
        return self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value

    @property
    def crl_url(self) -> str:
        return urls_public.crl_url(self.slug)

    @property
    def certificate_url(self) -> str:
        return urls_public.ca_certificate_url(self.slug)

    def signing_key(self) -> SigningKey:
        """The CA's private key, loaded once per worker process (never on the web tier)."""
        from ca.keys import load_key

        return load_key(self.key_backend, self.key_ref, generated_here=self.key_generated_here)

    def latest_crl(self) -> RevocationList | None:
        return self.crls.order_by("-number").first()


# --- Orders -------------------------------------------------------------------------------


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    PROCESSING = "processing", _("processing")
    ISSUED = "issued", _("issued")
    FAILED = "failed", _("failed")


class OrderQuerySet(models.QuerySet["Order"]):
    def pending_since(self, moment: datetime) -> OrderQuerySet:
        return self.filter(status=OrderStatus.PENDING, created_at__lte=moment)

    def lease_expired(self, moment: datetime) -> OrderQuerySet:
        return self.filter(status=OrderStatus.PROCESSING, claimed_at__lte=moment)

    def with_attempts_left(self) -> OrderQuerySet:
        return self.filter(attempts__lt=settings.CA_ORDER_MAX_ATTEMPTS)

    def claimable(self, now: datetime, lease_seconds: int) -> OrderQuerySet:
        """Orders a worker may claim: pending, or processing under a claim whose lease ran
        out; in both cases with attempts left."""
        lease_expired = self.lease_expired(now - timedelta(seconds=lease_seconds))
        return (self.filter(status=OrderStatus.PENDING) | lease_expired).with_attempts_left()


def _claimed_by(token: uuid.UUID, now: datetime) -> dict[str, Any]:
    """The columns that make an order a worker's: processing, with its token, one attempt more."""
    return {
        "status": OrderStatus.PROCESSING,
        "claim_token": token,
        "claimed_at": now,
        "attempts": F("attempts") + 1,
        "updated_at": now,
    }


class OrderManager(models.Manager["Order"]):
    def get_queryset(self) -> OrderQuerySet:
        return OrderQuerySet(self.model, using=self._db)

    def place(
        self,
        request: OrderRequest,
        *,
        actor: str,
        client_address: str | None = None,
    ) -> Order:
        """Record an order for a CSR that passed the policy and queue it after commit.

        The partial unique index allows one live (not failed) order per reference, so a
        double submit raises ``IntegrityError`` instead of ordering a second certificate.
        """
        # No savepoint: a failure here fails the caller's transaction, as it should.
        with transaction.atomic(savepoint=False):
            order = self.create(
                reference=request.reference,
                holder_reference=request.holder,
                profile=request.profile,
                subject=asdict(request.subject),
                csr_der=request.csr.der,
            )
            AuditEntry.objects.record(
                AuditEvent.ORDER_RECEIVED,
                order,
                actor=actor,
                client_address=client_address,
                details={"reference": str(request.reference), "key": request.csr.key_description},
            )
            queue_after_commit("ca.sign_order", order.pk)
        return order

    def claim(self, order_id: int, lease_seconds: int) -> uuid.UUID | None:
        """Take the order for signing: pending, or processing by a worker whose lease ran out.

        A conditional UPDATE, so of two workers (or a task and its redelivered copy) exactly
        one gets the order; ``None`` means someone else has it or it is finished.
        """
        now = timezone.now()
        token = uuid.uuid4()
        updated = (
            self.get_queryset()
            .claimable(now, lease_seconds)
            .filter(pk=order_id)
            .update(**_claimed_by(token, now))
        )
        return token if updated else None

    def claim_more(self, token: uuid.UUID, limit: int, lease_seconds: int) -> list[int]:
        """Add up to ``limit`` more orders to a worker's claim ``token``, oldest first.

        Orders whose claim ran out first, then pending ones: a worker that died in the
        middle of a batch left its orders claimed, and the retry of its own order takes them
        over along with it. Rows another worker is claiming at this moment are skipped, not
        waited for. Each of these orders still has its own task queued; it finds the order
        taken and, once the order is issued, does nothing.

        Two queries, each an ordered range of the (status, created_at) index: asked for both
        states at once (``claimable``), PostgreSQL sorts every pending order to find the
        oldest few, 26 ms a batch with 100,000 queued.
        """
        if limit <= 0:
            return []
        now = timezone.now()
        with transaction.atomic():
            oldest = (
                self.get_queryset()
                .with_attempts_left()
                .select_for_update(skip_locked=True)
                .order_by("created_at", "pk")
            )
            lease_ran_out = now - timedelta(seconds=lease_seconds)
            expired = oldest.lease_expired(lease_ran_out).values_list("pk", flat=True)
            order_ids = list(expired[:limit])
            if len(order_ids) < limit:
                pending = oldest.filter(status=OrderStatus.PENDING).values_list("pk", flat=True)
                order_ids += pending[: limit - len(order_ids)]
            if order_ids:
                self.filter(pk__in=order_ids).update(**_claimed_by(token, now))
        return order_ids

    def fail(self, order_id: int, error_code: str, *, token: uuid.UUID | None = None) -> bool:
        """Mark a processing order failed (only the claim holder may, if a token is given)."""
        now = timezone.now()
        query = self.filter(pk=order_id, status=OrderStatus.PROCESSING)
        if token is not None:
            query = query.filter(claim_token=token)
        return bool(
            query.update(
                status=OrderStatus.FAILED, error_code=error_code, updated_at=now, finished_at=now
            )
        )


class Order(models.Model):
    # What the registration authority calls this order (its enrollment's public id): the CA
    # reports progress and results under it and knows nothing else of the RA's records.
    reference = models.UUIDField(_("reference"))
    # The RA's name for the holder, so that blocking them can put all their certificates on hold.
    holder_reference = models.CharField(_("holder reference"), max_length=40)
    # The profile *name*: the certificate contents are decided by ca.profiles, not the caller.
    profile = models.CharField(_("profile"), max_length=20)
    # The subject as the RA wrote it when ordering (ca.profiles.Holder's fields): with the
    # CSR's public key, all the certificate is built from.
    subject = models.JSONField(_("subject"))
    csr_der = models.BinaryField()
    status = models.CharField(
        _("status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = OrderManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("certificate order")
        verbose_name_plural = _("certificate orders")
        constraints = [
            models.UniqueConstraint(
                fields=["reference"],
                condition=~Q(status="failed"),
                name="order_one_live_per_reference",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="order_status_created"),
            models.Index(fields=["reference", "created_at"], name="order_reference_created"),
        ]

    def __str__(self) -> str:
        return f"order {self.pk} ({self.status})"


# --- Certificates -------------------------------------------------------------------------


class RevocationReason(models.TextChoices):
    # RFC 5280 §5.3.1 reasons that apply to end-entity certificates in a full CRL.
    UNSPECIFIED = "unspecified", _("unspecified")
    KEY_COMPROMISE = "keyCompromise", _("key compromise")
    AFFILIATION_CHANGED = "affiliationChanged", _("affiliation changed")
    SUPERSEDED = "superseded", _("superseded")
    CESSATION_OF_OPERATION = "cessationOfOperation", _("cessation of operation")
    CERTIFICATE_HOLD = "certificateHold", _("certificate hold")
    PRIVILEGE_WITHDRAWN = "privilegeWithdrawn", _("privilege withdrawn")


class CertificateQuerySet(models.QuerySet["Certificate"]):
    def revoked(self) -> CertificateQuerySet:
        return self.filter(revoked_at__isnull=False)

    def unexpired(self, moment: datetime | None = None) -> CertificateQuerySet:
        return self.filter(not_after__gt=moment or timezone.now())

    def of_holder(self, holder_reference: str) -> CertificateQuerySet:
        return self.filter(holder_reference=holder_reference)

    def needing_ocsp_response(self, moment: datetime) -> CertificateQuerySet:
        """Unexpired certificates whose pre-signed OCSP answer is missing or due for renewal."""
        return self.unexpired(moment).filter(
            Q(ocsp_response_der__isnull=True) | Q(ocsp_next_update__lte=moment)
        )

    def revoke(
        self, reason: str, *, actor: str, client_address: str | None = None
    ) -> list[Certificate]:
        """Revoke every certificate in the queryset that is not revoked yet; returns those.

        Runs under ``select_for_update`` so a concurrent revocation of the same certificate
        keeps the first reason and time; the stale "good" OCSP answer is dropped in the same
        transaction, so OCSP never says "good" for a revoked certificate. The CRL and the new
        OCSP answers are made by a worker after commit.
        """
        if reason not in RevocationReason.values:
            raise ValueError(f"unknown revocation reason {reason!r}")
        now = timezone.now()
        with transaction.atomic():
            certificates = list(
                self.select_for_update().filter(revoked_at__isnull=True).order_by("pk")
            )
            if not certificates:
                return []
            Certificate.objects.filter(pk__in=[c.pk for c in certificates]).update(
                revoked_at=now,
                revocation_reason=reason,
                ocsp_response_der=None,
                ocsp_next_update=None,
            )
            for certificate in certificates:
                certificate.revoked_at = now
                certificate.revocation_reason = reason
                AuditEntry.objects.record(
                    AuditEvent.CERTIFICATE_REVOKED,
                    certificate,
                    actor=actor,
                    client_address=client_address,
                    details={"serial": certificate.serial_hex, "reason": reason},
                )
            for issuer_id in {c.issuer_id for c in certificates}:
                queue_after_commit("ca.publish_revocations", issuer_id)
        _forget_cached_ocsp(certificates)
        return certificates

    def release_hold(self, *, actor: str, client_address: str | None = None) -> list[Certificate]:
        """Lift ``certificateHold``: the certificates become valid again (full CRLs only)."""
        with transaction.atomic():
            certificates = list(
                self.select_for_update().filter(revocation_reason=RevocationReason.CERTIFICATE_HOLD)
            )
            if not certificates:
                return []
            Certificate.objects.filter(pk__in=[c.pk for c in certificates]).update(
                revoked_at=None, revocation_reason="", ocsp_response_der=None, ocsp_next_update=None
            )
            for certificate in certificates:
                AuditEntry.objects.record(
                    AuditEvent.HOLD_RELEASED,
                    certificate,
                    actor=actor,
                    client_address=client_address,
                    details={"serial": certificate.serial_hex},
                )
            for issuer_id in {c.issuer_id for c in certificates}:
                queue_after_commit("ca.publish_revocations", issuer_id)
        _forget_cached_ocsp(certificates)
        return certificates


def _forget_cached_ocsp(certificates: list[Certificate]) -> None:
    from ca.ocsp import forget_cached_response

    def forget() -> None:
        for certificate in certificates:
            forget_cached_response(certificate.issuer_id, certificate.serial_hex)

    transaction.on_commit(forget)


class Certificate(models.Model):
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="certificate")
    # The order's reference: one issued certificate per reference, enforced by the database's
    # unique index, however many orders a reference had.
    reference = models.UUIDField(_("reference"), unique=True)
    holder_reference = models.CharField(_("holder reference"), max_length=40, db_index=True)
    issuer = models.ForeignKey(
        CertificateAuthority, on_delete=models.PROTECT, related_name="certificates"
    )
    profile = models.CharField(_("profile"), max_length=20)
    serial_hex = models.CharField(_("serial number"), max_length=40)
    der = models.BinaryField()
    sha256_hex = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True)
    sha1_hex = models.CharField(_("SHA-1 fingerprint"), max_length=40)
    subject = models.CharField(_("subject"), max_length=500)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revocation_reason = models.CharField(
        _("revocation reason"), max_length=30, choices=RevocationReason.choices, blank=True
    )
    # Pre-signed by a worker (see ca.ocsp for why); the web tier only serves these bytes.
    ocsp_response_der = models.BinaryField(null=True, blank=True)
    ocsp_next_update = models.DateTimeField(null=True, blank=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "serial_hex"], name="certificate_serial_per_issuer"
            ),
        ]
        indexes = [models.Index(fields=["issuer", "revoked_at"], name="certificate_issuer_revoked")]

    def __str__(self) -> str:
        return self.subject

    @cached_property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(bytes(self.der))

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def chain(self) -> list[x509.Certificate]:
        """This certificate and its issuers up to and including the root."""
        chain = [self.certificate]
        issuer: CertificateAuthority | None = self.issuer
        while issuer is not None:
            chain.append(issuer.certificate)
            issuer = issuer.parent
        return chain

    def revoke(self, reason: str, *, actor: str, client_address: str | None = None) -> bool:
        """Revoke this certificate; False if it already was."""
        done = Certificate.objects.filter(pk=self.pk).revoke(
            reason, actor=actor, client_address=client_address
        )
        self.refresh_from_db(fields=["revoked_at", "revocation_reason"])
        return bool(done)


# --- Revocation lists and OCSP responders ------------------------------------------------


class RevocationList(models.Model):
    ca = models.ForeignKey(CertificateAuthority, on_delete=models.PROTECT, related_name="crls")
    number = models.BigIntegerField()
    der = models.BinaryField()
    this_update = models.DateTimeField()
    next_update = models.DateTimeField()
    entries = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("certificate revocation list")
        verbose_name_plural = _("certificate revocation lists")
        constraints = [
            models.UniqueConstraint(fields=["ca", "number"], name="crl_number_per_ca"),
        ]

    def __str__(self) -> str:
        return f"CRL {self.number} of {self.ca}"


class OcspResponder(models.Model):
    """A delegated OCSP-signing certificate (id-kp-OCSPSigning, ocsp-nocheck) of an issuing CA."""

    ca = models.ForeignKey(
        CertificateAuthority, on_delete=models.PROTECT, related_name="ocsp_responders"
    )
    certificate_der = models.BinaryField()
    key_ref = models.CharField(max_length=100)
    not_after = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-not_after"]
        verbose_name = _("OCSP responder")
        verbose_name_plural = _("OCSP responders")

    def __str__(self) -> str:
        return f"OCSP responder of {self.ca} until {self.not_after:%Y-%m-%d}"

    @cached_property
    def certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(bytes(self.certificate_der))
