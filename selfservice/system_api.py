"""The API for administrative software, authenticated by system certificates only
(enrollment.system_certificates says which are accepted, and records the refusals)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ca.interface import Certificate
from core.client_address import client_address
from enrollment.models import Holder
from enrollment.system_certificates import Refused, check_system_certificate


def system_certificate_required(
    view: Callable[[HttpRequest, Holder, Certificate], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def wrapped(request: HttpRequest) -> HttpResponse:
        checked = check_system_certificate(request)
        if isinstance(checked, Refused):
            extra = {"address": checked.address} if checked.code == "address_not_allowed" else {}
            return JsonResponse(
                {"code": checked.code, "message": checked.message, **extra}, status=checked.status
            )
        return view(request, checked.holder, checked.certificate)

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
