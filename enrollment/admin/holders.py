"""Certificate holders and their organisations in the admin: issue, edit, block, new PINs.

Every change goes through a named model method with the admin as its actor, so the audit
log says who did what. What issues (*Add holder*, *Issue a new PIN*, the letters action)
carries a one-time token and answers with a redirect to its handover, so that a reload, a
double click or a second submit issues nothing twice (``enrollment.admin.handovers``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from enrollment.admin.common import actor_of, address_of, admin_id, new_form_token
from enrollment.admin.handovers import HandoverViews, handover_url
from enrollment.admin.imports import ImportViews
from enrollment.managers.handovers import AlreadyDone, MissingToken
from enrollment.managers.holders import holder_key
from enrollment.models import (
    ActivationCode,
    HandoverPurpose,
    Holder,
    Organisation,
    PinHandover,
)
from enrollment.outbox import store_pin_mails


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "agb_code", "postal_code", "city", "created_at"]
    search_fields = ["name", "agb_code", "city"]
    fieldsets = [
        (None, {"fields": ["name", "agb_code"]}),
        (
            gettext_lazy("Postal address (for PIN letters)"),
            {"fields": ["postal_address", "postal_code", "city"]},
        ),
    ]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Holders and the audit log refer to it; an organisation is never removed.
        return False

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        obj.save_by_admin(
            actor=actor_of(request), client_address=address_of(request), changed=form.changed_data
        )


class ActivationCodeInline(admin.TabularInline):
    model = ActivationCode
    fields = ("created_at", "expires_at", "state", "failed_attempts", "used_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = gettext_lazy("PIN")
    verbose_name_plural = gettext_lazy("PINs (a PIN itself is never shown again)")
    template = "admin/enrollment/pins_inline.html"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("state"))
    def state(self, code: ActivationCode) -> str:
        return code.get_state_display()


class HolderForm(forms.ModelForm):
    # The one-time token of this form's drawing; its first submit claims it.
    issue_token = forms.CharField(widget=forms.HiddenInput, required=False)
    # Asked for when a holder of this name, organisation and kind exists: the form sent
    # again after "back" (a new drawing, a new token) must not make a second one unasked.
    add_duplicate = forms.BooleanField(
        required=False, label=gettext_lazy("Yes, add another certificate holder with this name")
    )

    class Meta:
        model = Holder
        fields = [
            "display_name",
            "kind",
            "organisation",
            "contact_email",
            "is_contact_person",
            "pin_delivery",
            "messagebox_address",
            "allowed_networks",
        ]
        widgets = {
            "kind": forms.RadioSelect,
            "pin_delivery": forms.RadioSelect,
            "allowed_networks": forms.Textarea(attrs={"rows": 3, "cols": 40}),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        organisation = cleaned.get("organisation")
        adding = self.instance._state.adding
        if adding and not cleaned.get("issue_token"):
            raise forms.ValidationError(
                _("This form is out of date. Reload the page and enter the holder again."),
                code="no_token",
            )
        existing = same_holder(cleaned) if adding else None
        if existing is not None and not cleaned.get("add_duplicate"):
            raise forms.ValidationError(
                _(
                    "%(name)s (%(kind)s) at %(organisation)s exists already, user number "
                    "%(number)s, added %(date)s. To add a second one, tick the box below."
                )
                % {
                    "name": existing.display_name,
                    "kind": existing.get_kind_display(),
                    "organisation": existing.organisation.name,
                    "number": existing.user_number,
                    "date": date_format(timezone.localtime(existing.created_at), "j F Y, H:i"),
                },
                code="duplicate",
            )
        if (
            adding
            and cleaned.get("pin_delivery") == "letter"
            and organisation is not None
            and not organisation.has_postal_address
        ):
            self.add_error(
                "pin_delivery",
                _(
                    "%(organisation)s has no postal address for the PIN letter: add it to the "
                    "organisation first, or deliver the PIN to a message box."
                )
                % {"organisation": organisation.name},
            )
        return cleaned


def same_holder(values: dict[str, Any]) -> Holder | None:
    """An existing holder with this name, organisation and kind (any case), if there is one."""
    organisation = values.get("organisation")
    if not values.get("display_name") or organisation is None:
        return None
    key = holder_key(values["display_name"], organisation.name, values.get("kind") or "")
    return Holder.objects.get_queryset().same_as([key]).get(key)


STATE_FIELDS = ["user_number", "status", "block_reason", "blocked_at", "created_at"]


@admin.register(Holder)
class HolderAdmin(HandoverViews, ImportViews, admin.ModelAdmin):
    form = HolderForm
    list_display = ["display_name", "user_number", "organisation", "kind", "status", "created_at"]
    list_filter = ["kind", "status", "is_contact_person", "pin_delivery", "organisation"]
    search_fields = ["user_number", "display_name", "organisation__name", "contact_email"]
    list_select_related = ["organisation"]
    inlines = [ActivationCodeInline]
    actions = ["issue_pins", "issue_pin_letters", "block_holders", "unblock_holders"]
    change_list_template = "admin/enrollment/holder_change_list.html"

    def get_fieldsets(self, request: HttpRequest, obj: Holder | None = None) -> Any:
        fieldsets: list[Any] = [
            (None, {"fields": ["display_name", "kind", "organisation"]}),
            (
                _("Contact person and PIN delivery"),
                {
                    "fields": [
                        "contact_email",
                        "is_contact_person",
                        "pin_delivery",
                        "messagebox_address",
                    ]
                },
            ),
            (_("System certificates"), {"fields": ["allowed_networks"]}),
        ]
        if obj is None:
            fieldsets[0][1]["fields"].append("issue_token")
            if request.method == "POST" and "add_duplicate" in self._duplicate_asked(request):
                fieldsets[0][1]["fields"].append("add_duplicate")
        else:
            fieldsets.append((_("State"), {"fields": STATE_FIELDS}))
        return fieldsets

    def _duplicate_asked(self, request: HttpRequest) -> set[str]:
        # The box appears once the form says the holder exists (or it was ticked already).
        if request.POST.get("add_duplicate"):
            return {"add_duplicate"}
        form = HolderForm(request.POST)
        form.is_valid()
        return {"add_duplicate"} if form.has_error("__all__", "duplicate") else set()

    def get_readonly_fields(self, request: HttpRequest, obj: Holder | None = None) -> list[str]:
        # The kind decides the certificate profile; it cannot change after creation.
        return [*STATE_FIELDS, "kind"] if obj else STATE_FIELDS

    def get_inline_instances(self, request: HttpRequest, obj: Holder | None = None) -> list[Any]:
        # A new holder has no PINs yet: no empty table of them on the add page.
        return super().get_inline_instances(request, obj) if obj is not None else []

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {**super().get_changeform_initial_data(request), "issue_token": new_form_token()}

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Blocked, never deleted: certificates and the audit log refer to the holder.
        return False

    def get_urls(self) -> list[Any]:
        return [*self.handover_urls(), *self.import_urls(), *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The actions that issue PINs claim this token: a second "Go" issues nothing.
        return super().changelist_view(
            request, {**(extra_context or {}), "issue_token": new_form_token()}
        )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST":
            done = PinHandover.objects.used(request.POST.get("issue_token", ""))
            if done is not None:
                return self.already_done(request, done)
        try:
            return super().add_view(request, form_url, extra_context)
        except AlreadyDone as done:  # a concurrent submit of the same form won the claim
            return self.already_done(request, done.handover)

    def save_model(self, request: HttpRequest, obj: Holder, form: Any, change: bool) -> None:
        actor, address = actor_of(request), address_of(request)
        if change:
            obj.save_by_admin(actor=actor, client_address=address, changed=form.changed_data)
            return
        # In the admin's transaction (changeform_view's): claim, issue and keep commit together.
        handover = PinHandover.objects.claim(
            form.cleaned_data["issue_token"],
            purpose=HandoverPurpose.ADD_HOLDER,
            admin_id=admin_id(request),
        )
        holder, pin = Holder.objects.issue(
            display_name=obj.display_name,
            organisation=obj.organisation,
            contact_email=obj.contact_email,
            kind=obj.kind,
            allowed_networks=obj.allowed_networks,
            pin_delivery=obj.pin_delivery,
            messagebox_address=obj.messagebox_address,
            is_contact_person=obj.is_contact_person,
            actor=actor,
            client_address=address,
        )
        store_pin_mails([(holder, pin)])
        handover.keep([(holder, pin)])
        obj.pk, obj.user_number = holder.pk, holder.user_number
        request._handover = handover  # type: ignore[attr-defined]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The inline of PINs is read-only; a new holder's first PIN was made by issue().
        if change:
            super().save_related(request, form, formsets, change)

    def response_add(
        self, request: HttpRequest, obj: Holder, post_url_continue: Any = None
    ) -> HttpResponse:
        return HttpResponseRedirect(handover_url(request._handover))  # type: ignore[attr-defined]

    def _issue(
        self, request: HttpRequest, queryset: QuerySet[Holder], purpose: str
    ) -> HttpResponse | None:
        actor, address = actor_of(request), address_of(request)
        letters = purpose == HandoverPurpose.LETTERS
        try:
            with transaction.atomic():
                handover = PinHandover.objects.claim(
                    request.POST.get("issue_token", ""),
                    purpose=purpose,
                    admin_id=admin_id(request),
                )
                issued = [
                    (holder, holder.issue_pin(actor=actor, client_address=address))
                    for holder in queryset.select_related("organisation")
                ]
                if letters:
                    # The message-box PINs go with the mails that carry them, in this commit.
                    store_pin_mails(issued)
                handover.keep(issued, letters_only=letters)
        except AlreadyDone as done:
            return self.already_done(request, done.handover)
        except MissingToken:
            self.message_user(
                request,
                _("This page was out of date; nothing has been issued. Try again."),
                messages.ERROR,
            )
            return None
        return HttpResponseRedirect(handover_url(handover))

    @admin.action(description=gettext_lazy("Issue a new PIN (also lifts a block)"))
    def issue_pins(self, request: HttpRequest, queryset: QuerySet[Holder]) -> HttpResponse | None:
        return self._issue(request, queryset, HandoverPurpose.NEW_PINS)

    @admin.action(description=gettext_lazy("Issue new PINs as letters (PDF) or to the message box"))
    def issue_pin_letters(
        self, request: HttpRequest, queryset: QuerySet[Holder]
    ) -> HttpResponse | None:
        return self._issue(request, queryset, HandoverPurpose.LETTERS)

    @admin.action(description=gettext_lazy("Block"))
    def block_holders(self, request: HttpRequest, queryset: QuerySet[Holder]) -> None:
        actor, address = actor_of(request), address_of(request)
        # Counts the holders this blocked; one blocked already keeps its block and reason.
        holders = list(queryset)
        count = sum(1 for holder in holders if holder.block(actor=actor, client_address=address))
        self._report(
            request,
            count,
            len(holders) - count,
            ngettext("%d certificate holder blocked.", "%d certificate holders blocked.", count),
            ngettext(
                "%d was blocked already and kept its block.",
                "%d were blocked already and kept their block.",
                len(holders) - count,
            ),
        )

    @admin.action(description=gettext_lazy("Unblock (a block for wrong PINs needs a new PIN)"))
    def unblock_holders(self, request: HttpRequest, queryset: QuerySet[Holder]) -> None:
        actor, address = actor_of(request), address_of(request)
        holders = list(queryset)
        count = sum(1 for holder in holders if holder.unblock(actor=actor, client_address=address))
        self._report(
            request,
            count,
            len(holders) - count,
            ngettext(
                "%d certificate holder unblocked.", "%d certificate holders unblocked.", count
            ),
            ngettext(
                "%d was not blocked, or needs a new PIN to be unblocked.",
                "%d were not blocked, or need a new PIN to be unblocked.",
                len(holders) - count,
            ),
        )

    def _report(
        self, request: HttpRequest, done: int, skipped: int, done_text: str, skipped_text: str
    ) -> None:
        self.message_user(request, done_text % done, messages.SUCCESS)
        if skipped:
            self.message_user(request, skipped_text % skipped, messages.WARNING)


__all__ = ["HolderAdmin", "OrganisationAdmin"]
