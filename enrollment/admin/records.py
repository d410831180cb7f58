"""The registration authority's records in the admin: enrollments, CP/CPS, outbox, refusals."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from ca.interface import Certificate
from enrollment.models import Consent, Enrollment, OutgoingMail, PolicyDocument, RefusedAddress


class ConsentInline(admin.TabularInline):
    model = Consent
    fields = ("kind", "policy", "accepted_at", "client_address", "user_agent")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = [
        "certificate_name",
        "holder",
        "kind",
        "channel",
        "status",
        "created_at",
        "expires_at",
    ]
    list_filter = ["kind", "channel", "status"]
    search_fields = ["holder__user_number", "holder__display_name", "certificate_name", "email"]
    list_select_related = ["holder"]
    fields = (
        "public_id",
        "holder",
        "kind",
        "certificate_name",
        "email",
        "status",
        "channel",
        "certificate_serial",
        "renews_serial",
        "renewal",
        "client_address",
        "created_at",
        "expires_at",
    )
    readonly_fields = fields
    inlines = [ConsentInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("certificate"))
    def certificate_serial(self, enrollment: Enrollment) -> str:
        certificate = enrollment.certificate
        if certificate is None:
            return "—"
        return _certificate_line(certificate)

    @admin.display(description=_("renews"))
    def renews_serial(self, enrollment: Enrollment) -> str:
        return _certificate_line(enrollment.renews) if enrollment.renews else "—"

    @admin.display(description=_("renewed over EST"))
    def renewal(self, enrollment: Enrollment) -> str:
        renewal = enrollment.est_renewal
        if renewal is None or renewal.certificate is None or enrollment.retires_at is None:
            return "—"
        return gettext("%(serial)s; the earlier certificate works until %(date)s") % {
            "serial": renewal.certificate.serial_hex,
            "date": date_format(timezone.localtime(enrollment.retires_at), "DATETIME_FORMAT"),
        }


def _certificate_line(certificate: Certificate) -> str:
    state = (
        gettext("revoked (%(reason)s)") % {"reason": certificate.get_revocation_reason_display()}
        if certificate.is_revoked
        else gettext("valid until %(date)s")
        % {"date": date_format(timezone.localtime(certificate.not_after), "DATE_FORMAT")}
    )
    return f"{certificate.serial_hex} — {state}"


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "version", "published_at"]
    actions = ["publish"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: PolicyDocument | None = None
    ) -> list[str]:
        # People consented to a published text: it must stay exactly as they read it.
        if obj and obj.published_at:
            return ["version", "title", "body", "published_at"]
        return []

    @admin.action(description=_("Publish (becomes the current CP/CPS)"))
    def publish(self, request: HttpRequest, queryset: QuerySet[PolicyDocument]) -> None:
        for document in queryset.filter(published_at=None):
            document.publish()


@admin.register(OutgoingMail)
class OutgoingMailAdmin(admin.ModelAdmin):
    """What the outbox sent, still has to send, or gave up on; read-only, bodies never shown."""

    list_display = ["created_at", "kind", "subject", "attempts", "sent_at", "failed_at"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject"]
    fields = (
        "kind",
        "subject",
        "from_email",
        "recipients",
        "created_at",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
        "failed_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RefusedAddress)
class RefusedAddressAdmin(admin.ModelAdmin):
    """Where system certificates were used from addresses they are not allowed from."""

    list_display = ["address", "holder", "attempts", "first_seen", "last_seen", "allow_button"]
    list_select_related = ["holder"]
    search_fields = ["address", "holder__user_number", "holder__display_name"]
    readonly_fields = ["holder", "address", "attempts", "first_seen", "last_seen"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        allow = self.admin_site.admin_view(require_POST(self.allow_view))
        return [
            path("<int:pk>/allow/", allow, name="enrollment_refusedaddress_allow"),
            *super().get_urls(),
        ]

    @admin.display(description=_("allow"))
    def allow_button(self, row: RefusedAddress) -> str:
        if row.holder.allows_address(row.address):
            return "✓"
        # The change list is one form with a CSRF token; this button posts it to allow_view.
        return format_html(
            '<button type="submit" class="button" formaction="{}">{}</button>',
            reverse("admin:enrollment_refusedaddress_allow", args=[row.pk]),
            _("Allow this address"),
        )

    def allow_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_change_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        row = get_object_or_404(RefusedAddress.objects.select_related("holder"), pk=pk)
        row.holder.allow_address(row.address)
        self.message_user(
            request,
            _("%(address)s is now allowed for %(holder)s.")
            % {"address": row.address, "holder": row.holder},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:enrollment_refusedaddress_changelist"))
