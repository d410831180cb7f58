"""Which system holder a client certificate speaks for: the one check behind the API for
administrative software (selfservice.system_api) and EST re-enrollment (enrollment.est).

nginx verifies the certificate (core.client_certificate); here the portal checks that it is
one of its own, unrevoked, unexpired, of an unblocked system holder, and presented from one
of the holder's allowed addresses. A refused address is recorded so that an admin can allow
it with one click, and audited with the holder as actor.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry
from ca.interface import Certificate
from core.client_address import client_address
from core.client_certificate import verification_state, verified_certificate
from enrollment.models import Enrollment, Holder, HolderKind, RefusedAddress

# code: (HTTP status, what it means), the same for every caller.
REFUSALS: dict[str, tuple[int, Promise]] = {
    "no_client_certificate": (401, _("No client certificate was presented.")),
    "client_certificate_invalid": (401, _("The client certificate was not accepted.")),
    "certificate_unknown": (403, _("This certificate was not issued by this portal.")),
    "certificate_revoked": (403, _("This certificate has been revoked.")),
    "certificate_expired": (403, _("This certificate has expired.")),
    "personal_certificate": (
        403,
        _("Personal certificates cannot use this API; use a system certificate."),
    ),
    "holder_blocked": (403, _("This certificate's holder is blocked.")),
    "address_not_allowed": (403, _("This system certificate may not be used from this address.")),
}


@dataclass(frozen=True)
class SystemCertificate:
    """A presented certificate that passed every check."""

    holder: Holder
    certificate: Certificate
    address: str


@dataclass(frozen=True)
class Refused:
    code: str
    address: str

    @property
    def status(self) -> int:
        return REFUSALS[self.code][0]

    @property
    def message(self) -> str:
        return str(REFUSALS[self.code][1])


def _unverified(state: str) -> str:
    """The refusal for a certificate that TLS did not verify, in nginx's and mod_ssl's words
    (``FAILED:certificate has expired``, ``FAILED:certificate revoked``)."""
    if state == "NONE":
        return "no_client_certificate"
    if "expired" in state:
        return "certificate_expired"
    if "revoked" in state:
        return "certificate_revoked"
    return "client_certificate_invalid"


def check_system_certificate(request: HttpRequest) -> SystemCertificate | Refused:
    """The system holder and certificate the request comes with, or why it is refused."""
    address = client_address(request)
    presented = verified_certificate(request)
    if presented is None:
        return Refused(_unverified(verification_state(request)), address)
    fingerprint = presented.fingerprint(hashes.SHA256()).hex()
    issued = (
        Certificate.objects.select_related("enrollment__holder__organisation", "issuer")
        .filter(sha256_hex=fingerprint)
        .first()
    )
    if issued is None:
        return Refused("certificate_unknown", address)
    holder = Enrollment.objects.of_certificate(issued).holder
    if holder.is_blocked:  # its certificates are on hold too; say why
        return Refused("holder_blocked", address)
    if issued.is_revoked:
        return Refused("certificate_revoked", address)
    if issued.not_after <= timezone.now():
        return Refused("certificate_expired", address)
    if holder.kind != HolderKind.SYSTEM:
        return Refused("personal_certificate", address)
    actor = f"system:{holder.user_number}"
    if not holder.allows_address(address):
        RefusedAddress.objects.record(holder, address)
        AuditEntry.objects.record(
            "access_refused",
            issued,
            actor=actor,
            client_address=address,
            details={"reason": "address_not_allowed", "path": request.path},
        )
        return Refused("address_not_allowed", address)
    AuditEntry.objects.record(
        "certificate_used",
        issued,
        actor=actor,
        client_address=address,
        details={"path": request.path},
    )
    return SystemCertificate(holder, issued, address)
