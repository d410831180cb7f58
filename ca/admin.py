"""Admin: everything read-only except revocation, which goes through the model's method."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ca.models import (
    Certificate,
    CertificateAuthority,
    CertificateQuerySet,
    Order,
    RevocationList,
    RevocationReason,
)
from core.admin import ReadOnlyAdmin
from core.client_address import client_address

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise


@admin.register(CertificateAuthority)
class CertificateAuthorityAdmin(ReadOnlyAdmin):
    list_display = ["common_name", "kind", "active", "not_after", "sha256_hex"]
    exclude = ["certificate_der"]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["pk", "reference", "profile", "status", "error_code", "created_at"]
    list_filter = ["status", "profile"]
    exclude = ["csr_der"]


def _revoke_action(reason: str, label: StrOrPromise) -> Callable[..., None]:
    def action(
        modeladmin: CertificateAdmin, request: HttpRequest, queryset: QuerySet[Certificate]
    ) -> None:
        assert isinstance(queryset, CertificateQuerySet)
        revoked = queryset.revoke(
            reason,
            actor=f"admin:{request.user.get_username()}",
            client_address=client_address(request),
        )
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d certificate revoked.", "%(count)d certificates revoked.", len(revoked)
            )
            % {"count": len(revoked)},
            messages.SUCCESS,
        )

    action.__name__ = f"revoke_{reason}"
    return admin.action(description=label, permissions=["revoke"])(action)


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = [
        "subject",
        "serial_hex",
        "issuer",
        "not_after",
        "revoked_at",
        "revocation_reason",
    ]
    list_filter = ["profile", "revocation_reason", "issuer"]
    search_fields = ["subject", "serial_hex", "sha256_hex", "reference"]
    exclude = ["der", "ocsp_response_der"]
    actions = [
        _revoke_action(RevocationReason.KEY_COMPROMISE, _("Revoke: key compromise")),
        _revoke_action(RevocationReason.AFFILIATION_CHANGED, _("Revoke: affiliation changed")),
        _revoke_action(RevocationReason.SUPERSEDED, _("Revoke: superseded")),
        _revoke_action(
            RevocationReason.CESSATION_OF_OPERATION, _("Revoke: cessation of operation")
        ),
        _revoke_action(RevocationReason.PRIVILEGE_WITHDRAWN, _("Revoke: privilege withdrawn")),
        _revoke_action(RevocationReason.UNSPECIFIED, _("Revoke: unspecified")),
        _revoke_action(RevocationReason.CERTIFICATE_HOLD, _("Put on hold")),
        "release_hold",
    ]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("ca.change_certificate")

    @admin.action(description=_("Release hold"), permissions=["revoke"])
    def release_hold(self, request: HttpRequest, queryset: QuerySet[Certificate]) -> None:
        assert isinstance(queryset, CertificateQuerySet)
        released = queryset.release_hold(
            actor=f"admin:{request.user.get_username()}", client_address=client_address(request)
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d certificate released.", "%(count)d certificates released.", len(released)
            )
            % {"count": len(released)},
            messages.SUCCESS,
        )


@admin.register(RevocationList)
class RevocationListAdmin(ReadOnlyAdmin):
    list_display = ["ca", "number", "this_update", "next_update", "entries"]
    exclude = ["der"]
