"""The queryset of certificates (ca.models.certificates): revoking them and lifting a hold."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import AuditEntry, AuditEvent
from ca.choices import RevocationReason
from ca.ocsp_cache import forget_cached_response
from core.queue import queue_after_commit

if TYPE_CHECKING:
    from ca.models.certificates import Certificate


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
            self.model.objects.filter(pk__in=[c.pk for c in certificates]).update(
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
            self.model.objects.filter(pk__in=[c.pk for c in certificates]).update(
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
