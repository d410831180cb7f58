"""What the CA publishes about revocations: numbered CRLs and delegated OCSP responders.

Their CA is named by string, not imported: a CA finds its newest CRL
(``CertificateAuthority.latest_crl``), so ca.models.authorities imports this module.
"""

from __future__ import annotations

from functools import cached_property

from cryptography import x509
from django.db import models
from django.utils.translation import gettext_lazy as _


class RevocationList(models.Model):
    ca = models.ForeignKey("ca.CertificateAuthority", on_delete=models.PROTECT, related_name="crls")
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
        "ca.CertificateAuthority", on_delete=models.PROTECT, related_name="ocsp_responders"
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
