"""Certificate authorities: the root and issuing CAs, current and rolled over."""

from __future__ import annotations

from functools import cached_property

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ca import urls_public
from ca.choices import CaKind
from ca.fingerprints import colon_hex
from ca.keys import SigningKey, load_key
from ca.managers.authorities import CertificateAuthorityManager
from ca.models.publication import RevocationList


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
        return load_key(self.key_backend, self.key_ref, generated_here=self.key_generated_here)

    def latest_crl(self) -> RevocationList | None:
        return self.crls.order_by("-number").first()
