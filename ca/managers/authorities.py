"""The queryset and manager of certificate authorities (ca.models.authorities)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone

from ca.choices import CaKind

if TYPE_CHECKING:
    from ca.models.authorities import CertificateAuthority


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
