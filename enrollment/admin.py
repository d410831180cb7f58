from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.client_address import client_address
from enrollment import bulk
from enrollment.letters import pin_letters_pdf
from enrollment.models import (
    ActivationCode,
    Consent,
    Enrollment,
    Holder,
    Organisation,
    OutgoingMail,
    PolicyDocument,
    RefusedAddress,
)
from enrollment.outbox import store_pin_mails


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "agb_code", "created_at"]
    search_fields = ["name", "agb_code"]


class ActivationCodeInline(admin.TabularInline):
    model = ActivationCode
    fields = ("created_at", "expires_at", "state", "failed_attempts", "used_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("PINs (the PIN itself is never shown again)")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("state"))
    def state(self, code: ActivationCode) -> str:
        return code.state


def _uploaded_text(request: HttpRequest) -> str | None:
    if "csv_text" in request.POST:
        return request.POST["csv_text"]
    upload = request.FILES.get("csv_file")
    if upload is None or (upload.size or 0) > 2 * 1024 * 1024:
        return None
    try:
        return upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _admin_actor(request: HttpRequest) -> str:
    return f"admin:{request.user.get_username()}"


def _pin_letters(issued: list[tuple[Holder, str]]) -> HttpResponse:
    """The letters as one PDF (message-box holders' PINs went to the outbox with them)."""
    letters = [(holder, pin) for holder, pin in issued if holder.pin_delivery == "letter"]
    response = HttpResponse(pin_letters_pdf(letters), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="pincodes-{timezone.localdate():%Y%m%d}.pdf"'
    )
    response["Cache-Control"] = "no-store"
    return response


HOLDER_READONLY_FIELDS = ["user_number", "status", "block_reason", "blocked_at", "created_at"]


@admin.register(Holder)
class HolderAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user_number", "organisation", "kind", "status", "created_at"]
    list_filter = ["kind", "status", "organisation"]
    search_fields = ["user_number", "display_name", "organisation__name"]
    list_select_related = ["organisation"]
    autocomplete_fields = ["organisation"]
    readonly_fields = HOLDER_READONLY_FIELDS
    fields = [
        "display_name",
        "kind",
        "organisation",
        "contact_email",
        "allowed_networks",
        *HOLDER_READONLY_FIELDS,
    ]
    inlines = [ActivationCodeInline]
    actions = ["issue_pins", "issue_pin_letters", "block_holders", "unblock_holders"]
    change_list_template = "admin/enrollment/holder_change_list.html"

    def get_urls(self) -> list[Any]:
        import_view = self.admin_site.admin_view(self.import_view)
        return [path("import/", import_view, name="enrollment_holder_import"), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """CSV import: a validation report first; then all rows at once, with their PIN letters."""
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "columns": bulk.COLUMNS,
        }
        if request.method == "POST":
            text = _uploaded_text(request)
            if text is None:
                context["problem"] = _("Choose a CSV file (UTF-8) of at most 2 MB.")
            else:
                report = bulk.read(text)
                if report.ok and request.POST.get("confirm") == "1":
                    try:
                        issued = bulk.import_holders(report, actor=f"{_admin_actor(request)}:csv")
                    except bulk.RowRefused as refused:
                        context["problem"] = _(
                            "Line %(line)s: %(problems)s Nothing has been imported."
                        ) % {"line": refused.line, "problems": "; ".join(refused.problems)}
                    else:
                        return _pin_letters(issued)
                context.update(report=report, csv_text=text)
        return TemplateResponse(request, "admin/enrollment/holder_import.html", context)

    def get_readonly_fields(self, request: HttpRequest, obj: Holder | None = None) -> list[str]:
        # The kind decides the certificate profile; it cannot change after creation.
        return [*HOLDER_READONLY_FIELDS, "kind"] if obj else HOLDER_READONLY_FIELDS

    def save_model(self, request: HttpRequest, obj: Holder, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        holder, pin = Holder.objects.issue(
            display_name=obj.display_name,
            organisation=obj.organisation,
            contact_email=obj.contact_email,
            kind=obj.kind,
            allowed_networks=obj.allowed_networks,
            pin_delivery=obj.pin_delivery,
            messagebox_address=obj.messagebox_address,
            actor=_admin_actor(request),
            client_address=client_address(request),
        )
        obj.pk, obj.user_number = holder.pk, holder.user_number
        request._issued_pins = [(holder, pin)]  # type: ignore[attr-defined]

    def response_add(
        self, request: HttpRequest, obj: Holder, post_url_continue: Any = None
    ) -> HttpResponse:
        return self._show_pins(request, getattr(request, "_issued_pins", []))

    def _show_pins(self, request: HttpRequest, issued: list[tuple[Holder, str]]) -> HttpResponse:
        # Rendered straight into the response: a PIN never passes through messages or the session.
        response = TemplateResponse(
            request,
            "admin/enrollment/issued_pins.html",
            {
                **self.admin_site.each_context(request),
                "issued": issued,
                "valid_until": timezone.now() + timedelta(days=settings.PIN_VALIDITY_DAYS),
                "back_url": reverse("admin:enrollment_holder_changelist"),
                "opts": self.model._meta,
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Issue a new PIN (also lifts a block)"))
    def issue_pins(self, request: HttpRequest, queryset: QuerySet[Holder]) -> HttpResponse:
        actor, address = _admin_actor(request), client_address(request)
        issued = [
            (holder, holder.issue_pin(actor=actor, client_address=address))
            for holder in queryset.select_related("organisation")
        ]
        return self._show_pins(request, issued)

    @admin.action(description=_("Issue new PINs as letters (PDF) or to the message box"))
    def issue_pin_letters(self, request: HttpRequest, queryset: QuerySet[Holder]) -> HttpResponse:
        # The new PINs and the message-box mails that carry some of them commit together.
        actor, address = _admin_actor(request), client_address(request)
        with transaction.atomic():
            issued = [
                (holder, holder.issue_pin(actor=actor, client_address=address))
                for holder in queryset.select_related("organisation")
            ]
            store_pin_mails(issued)
        return _pin_letters(issued)

    @admin.action(description=_("Block"))
    def block_holders(self, request: HttpRequest, queryset: QuerySet[Holder]) -> None:
        actor, address = _admin_actor(request), client_address(request)
        # Counts the holders this blocked; one blocked already keeps its block and reason.
        count = sum(1 for holder in queryset if holder.block(actor=actor, client_address=address))
        self.message_user(
            request,
            ngettext("%d holder blocked.", "%d holders blocked.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Unblock (a block for wrong PINs needs a new PIN)"))
    def unblock_holders(self, request: HttpRequest, queryset: QuerySet[Holder]) -> None:
        actor, address = _admin_actor(request), client_address(request)
        count = sum(
            1
            for holder in queryset.filter(status="blocked")
            if holder.unblock(actor=actor, client_address=address)
        )
        self.message_user(
            request,
            ngettext("%d holder unblocked.", "%d holders unblocked.", count) % count,
            messages.SUCCESS,
        )


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
    list_display = ["certificate_name", "holder", "kind", "status", "created_at", "expires_at"]
    list_filter = ["kind", "status"]
    search_fields = ["holder__user_number", "holder__display_name", "certificate_name", "email"]
    list_select_related = ["holder"]
    fields = (
        "public_id",
        "holder",
        "kind",
        "certificate_name",
        "email",
        "status",
        "client_address",
        "created_at",
        "expires_at",
    )
    readonly_fields = fields
    inlines = [ConsentInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


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
