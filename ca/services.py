"""The CA's interface for the registration authority (enrollment/) and the CSR intake API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from ca.csr_policy import AcceptedCsr, CsrRejected, check_csr
from ca.models import Certificate, Order, RevocationReason

if TYPE_CHECKING:
    from enrollment.models import Enrollment, Holder

__all__ = [
    "AcceptedCsr",
    "CsrRejected",
    "check_csr",
    "order_certificate",
    "release_holder_certificates",
    "revoke_holder_certificates",
]


def order_certificate(
    enrollment: Enrollment, csr_data: bytes, *, actor: str = "", client_address: str | None = None
) -> Order:
    """Check a CSR against the policy and order a certificate for the enrollment.

    Raises :class:`CsrRejected` (nothing stored) or ``IntegrityError`` when the enrollment
    already has a live order. The signing task is queued when the caller's transaction
    commits.
    """
    csr = check_csr(csr_data)
    with transaction.atomic():  # a savepoint: the caller's transaction survives a refusal
        return Order.objects.create_for_enrollment(
            enrollment, csr, actor=actor, client_address=client_address
        )


def revoke_holder_certificates(
    holder: Holder,
    reason: str = RevocationReason.CERTIFICATE_HOLD,
    *,
    actor: str,
    client_address: str | None = None,
) -> int:
    """Revoke (default: put on hold) all unexpired certificates of a holder at once."""
    revoked = (
        Certificate.objects.of_holder(holder.pk)
        .unexpired()
        .revoke(reason, actor=actor, client_address=client_address)
    )
    return len(revoked)


def release_holder_certificates(
    holder: Holder, *, actor: str, client_address: str | None = None
) -> int:
    """Lift the hold on a holder's certificates (after unblocking); other revocations stay."""
    return len(
        Certificate.objects.of_holder(holder.pk).release_hold(
            actor=actor, client_address=client_address
        )
    )
