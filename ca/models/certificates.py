"""Issued certificates, their revocation and the hold that can be lifted again.

Revocation works under ``select_for_update``, so a revocation by an admin and one by a
holder's block at the same time keep the first reason and time.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry, AuditEvent
from ca.models.authorities import CertificateAuthority
from ca.models.orders import Order
from ca.ocsp_cache import forget_cached_response
from core.queue import queue_after_commit


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
