"""Issued certificates: what the CA signed, for whom, and whether it is revoked or on hold.

Revocation and lifting a hold are done by the queryset (``ca.managers.certificates``), under
``select_for_update``, so a revocation by an admin and one by a holder's block at the same
time keep the first reason and time.
"""

from __future__ import annotations

from functools import cached_property

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ca.choices import RevocationReason
from ca.managers.certificates import CertificateQuerySet
from ca.models.authorities import CertificateAuthority
from ca.models.orders import Order


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
