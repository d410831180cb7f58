"""The API for administrative software, authenticated by system certificates only.

nginx verifies the certificate (core/client_certificate.py); here the portal checks that it
is one of its own, unrevoked, of a system holder, and used from one of the holder's allowed
addresses. Refusals are recorded so an admin can allow a new address with one click.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audit.models import AuditEntry
from ca.interface import Certificate
from core.client_address import client_address
from core.client_certificate import verification_state, verified_certificate
from enrollment.models import Enrollment, Holder, HolderKind, RefusedAddress

ERRORS = {
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


def refuse(code: str, **extra: Any) -> JsonResponse:
    status, message = ERRORS[code]
    return JsonResponse({"code": code, "message": str(message), **extra}, status=status)


def system_certificate_required(
    view: Callable[[HttpRequest, Holder, Certificate], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def wrapped(request: HttpRequest) -> HttpResponse:
        presented = verified_certificate(request)
        if presented is None:
            state = verification_state(request)
            return refuse(
                "no_client_certificate" if state == "NONE" else "client_certificate_invalid"
            )
        fingerprint = presented.fingerprint(hashes.SHA256()).hex()
        issued = (
            Certificate.objects.select_related("enrollment__holder__organisation")
            .filter(sha256_hex=fingerprint)
            .first()
        )
        if issued is None:
            return refuse("certificate_unknown")
        holder = Enrollment.objects.of_certificate(issued).holder
        address = client_address(request)
        if holder.is_blocked:  # its certificates are on hold too; say why
            return refuse("holder_blocked")
        if issued.is_revoked:
            return refuse("certificate_revoked")
        if issued.not_after <= timezone.now():
            return refuse("certificate_expired")
        if holder.kind != HolderKind.SYSTEM:
            return refuse("personal_certificate")
        if not holder.allows_address(address):
            RefusedAddress.objects.record(holder, address)
            AuditEntry.objects.record(
                "access_refused",
                issued,
                actor=f"system:{holder.user_number}",
                client_address=address,
                details={"reason": "address_not_allowed", "path": request.path},
            )
            return refuse("address_not_allowed", address=address)
        AuditEntry.objects.record(
            "certificate_used",
            issued,
            actor=f"system:{holder.user_number}",
            client_address=address,
            details={"path": request.path},
        )
        return view(request, holder, issued)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@require_GET
@never_cache
@system_certificate_required
def whoami(request: HttpRequest, holder: Holder, certificate: Certificate) -> JsonResponse:
    """Who the software is to the portal: the holder, organisation and certificate."""
    return JsonResponse(
        {
            "user_number": holder.user_number,
            "name": holder.display_name,
            "organisation": holder.organisation.name,
            "agb_code": holder.organisation.agb_code or None,
            "certificate": {
                "name": certificate.enrollment.certificate_name,
                "serial": certificate.serial_hex,
                "not_after": certificate.not_after.isoformat(),
            },
            "address": client_address(request),
        }
    )


@require_GET
@never_cache
@system_certificate_required
def organisation_certificates(
    request: HttpRequest, holder: Holder, certificate: Certificate
) -> JsonResponse:
    """The organisation's certificates and whether each is valid now.

    What practice software asks before it accepts a message signed by a colleague's
    certificate: is it ours, and is it still good?
    """
    now = timezone.now()
    rows = (
        Certificate.objects.filter(enrollment__holder__organisation=holder.organisation)
        .select_related("enrollment__holder")
        .order_by("-issued_at")
    )
    return JsonResponse(
        {
            "organisation": holder.organisation.name,
            "certificates": [
                {
                    "user_number": row.enrollment.holder.user_number,
                    "name": row.enrollment.holder.display_name,
                    "kind": row.enrollment.kind,
                    "certificate_name": row.enrollment.certificate_name,
                    "serial": row.serial_hex,
                    "sha256": row.sha256_hex,
                    "not_before": row.not_before.isoformat(),
                    "not_after": row.not_after.isoformat(),
                    "status": "revoked"
                    if row.is_revoked
                    else "expired"
                    if row.not_after <= now
                    else "valid",
                }
                for row in rows
            ],
        }
    )
