"""The pages of a PIN handover: the PINs shown once, the PIN letters, and wiping them.

A submit that issued redirects here (``enrollment.models.handovers`` tells why), so a reload
re-sends nothing. Only the admin who issued sees the page; the PINs appear on it once (for
*Add holder* and *Issue a new PIN*), the letters can be downloaded while the handover lasts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from audit.models import AuditEntry, AuditEvent
from enrollment.admin.common import actor_of, address_of, admin_id, private
from enrollment.letters import pin_letters_pdf
from enrollment.models import HandoverPurpose, PinHandover

# Letters per PDF: about 3.5 ms each, so a part stays well inside a request's time limit
# (a CSV import of 5,000 holders comes as five PDFs).
LETTERS_PER_PDF = 1000
# The purposes whose PINs are shown on screen; the others print letters only.
ON_SCREEN = {HandoverPurpose.ADD_HOLDER, HandoverPurpose.NEW_PINS}


def handover_url(handover: PinHandover) -> str:
    return reverse("admin:enrollment_holder_handover", args=[handover.pk])


class HandoverViews(admin.ModelAdmin):
    """Mixed into the holders' admin: the handover pages under its URLs."""

    def handover_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("issued/<int:pk>/", view(self.handover_view), name="enrollment_holder_handover"),
            path(
                "issued/<int:pk>/letters.pdf",
                view(self.letters_view),
                name="enrollment_holder_handover_letters",
            ),
            path(
                "issued/<int:pk>/wipe/",
                view(require_POST(self.wipe_view)),
                name="enrollment_holder_handover_wipe",
            ),
        ]

    def _handover(self, request: HttpRequest, pk: int) -> PinHandover:
        # Another admin's handover does not exist, as far as this admin can tell.
        handover = PinHandover.objects.filter(pk=pk, admin_id=admin_id(request)).first()
        if handover is None or not self.has_add_permission(request):
            raise Http404
        return handover

    def already_done(self, request: HttpRequest, handover: PinHandover) -> HttpResponse:
        """The answer to a second submit of a form: nothing again, and where the first went."""
        self.message_user(
            request,
            _(
                "This was done already (%(action)s at %(time)s); nothing has been created or "
                "issued again."
            )
            % {
                "action": handover.get_purpose_display(),
                "time": timezone.localtime(handover.created_at).strftime("%H:%M:%S"),
            },
            messages.WARNING,
        )
        return HttpResponseRedirect(handover_url(handover))

    def handover_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        handover = self._handover(request, pk)
        holders = handover.holders()
        on_screen = handover.purpose in ON_SCREEN
        issued: list[Any] = []
        shown_before = False
        if on_screen:
            # The PINs are read before the page claims its one showing, and shown only
            # if this request made that claim: a second tab or a reload gets none.
            pins = handover.issued()
            if pins and handover.show_once():
                issued = pins
            else:
                shown_before = True
        letters = handover.issued() if handover.available else []
        parts = [
            {
                "number": n + 1,
                "first": n * LETTERS_PER_PDF + 1,
                "last": min((n + 1) * LETTERS_PER_PDF, len(letters)),
            }
            for n in range((len(letters) + LETTERS_PER_PDF - 1) // LETTERS_PER_PDF)
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("PINs issued") if on_screen else _("PIN letters"),
            "handover": handover,
            "holders": holders,
            "issued": issued,
            "on_screen": on_screen,
            "shown_before": shown_before,
            "letters": letters,
            "parts": parts,
            "by_messagebox": [h for h in holders if h.pin_delivery == "messagebox"],
            "holder_import": getattr(handover, "holder_import", None),
            "valid_until": handover.created_at + timedelta(days=settings.PIN_VALIDITY_DAYS),
        }
        return private(TemplateResponse(request, "admin/enrollment/handover.html", context))

    def letters_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        handover = self._handover(request, pk)
        letters = handover.issued()
        if not letters:
            self.message_user(
                request,
                _("The PINs are no longer available for letters. Issue new PINs if needed."),
                messages.ERROR,
            )
            return HttpResponseRedirect(handover_url(handover))
        try:
            part = max(int(request.GET.get("part", "1")), 1)
        except ValueError:
            part = 1
        chosen = letters[(part - 1) * LETTERS_PER_PDF : part * LETTERS_PER_PDF]
        if not chosen:
            raise Http404
        AuditEntry.objects.record(
            AuditEvent.PIN_LETTERS_PRINTED,
            handover,
            actor=actor_of(request),
            client_address=address_of(request),
            details={"letters": len(chosen), "part": part, "action": handover.purpose},
        )
        response = HttpResponse(pin_letters_pdf(chosen), content_type="application/pdf")
        stamp = timezone.localtime(handover.created_at).strftime("%Y%m%d-%H%M")
        suffix = f"-{part}" if len(letters) > LETTERS_PER_PDF else ""
        response["Content-Disposition"] = f'attachment; filename="pincodes-{stamp}{suffix}.pdf"'
        return private(response)

    def wipe_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        handover = self._handover(request, pk)
        count = len(handover.holder_ids)
        handover.wipe()
        self.message_user(
            request,
            ngettext(
                "The PIN has been wiped; it cannot be shown or printed again.",
                "The %(count)d PINs have been wiped; they cannot be shown or printed again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:enrollment_holder_changelist"))
