"""PIN handovers: what one submitted admin form issued, claimed once, its PINs shown once.

An admin form that creates holders or issues PINs (*Add holder*, *Issue a new PIN*, the
letters action, a CSV import) carries a one-time token, made when the form is drawn. The
first submit claims it (the SHA-256 of the token is a unique key: a second submit, a reload
or a double click finds it taken) and, in the same transaction, keeps what it issued here:
the holders' ids and their PINs, encrypted. The answer is a redirect to this handover's page,
so reloading that page re-sends nothing; the page shows the PINs once, and the PIN letters
(PDF) can be downloaded until ``available_until``, after which the PINs are wiped. A PIN so
never passes through the session, a message or a URL, and it is never at rest unencrypted.
"""

from __future__ import annotations

import json

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.encryption import fernet
from enrollment.choices import HandoverPurpose
from enrollment.managers.handovers import PinHandoverManager
from enrollment.models.holders import Holder

_PURPOSE = "enrollment.pin-handover"


class PinHandover(models.Model):
    # SHA-256 of the form's one-time token (of "holder-import:<id>" for an import's).
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    purpose = models.CharField(_("action"), max_length=20, choices=HandoverPurpose.choices)
    admin = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("administrator"),
    )
    created_at = models.DateTimeField(_("issued"), auto_now_add=True)
    # The holders this handover issued, in order (ids are not secret).
    holder_ids = models.JSONField(default=list, editable=False)
    # Fernet token of {holder id: PIN}; emptied when wiped.
    pins_encrypted = models.BinaryField(default=b"", editable=False)
    available_until = models.DateTimeField(_("PINs available until"))
    shown_at = models.DateTimeField(_("PINs shown"), null=True, blank=True)
    wiped_at = models.DateTimeField(_("PINs wiped"), null=True, blank=True)

    objects = PinHandoverManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("PIN handover")
        verbose_name_plural = _("PIN handovers")

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} ({self.created_at:%Y-%m-%d %H:%M})"

    def keep(self, issued: list[tuple[Holder, str]], *, letters_only: bool = False) -> None:
        """Remember what was issued, the PINs encrypted (call it in the issuing transaction).

        ``letters_only``: keep the PINs of holders whose PIN goes by letter only (those of
        message-box holders went to the outbox, and are needed nowhere else).
        """
        self.holder_ids = [holder.pk for holder, _pin in issued]
        kept = [(h, pin) for h, pin in issued if not letters_only or h.pin_delivery == "letter"]
        payload = json.dumps({str(holder.pk): pin for holder, pin in kept})
        self.pins_encrypted = fernet(_PURPOSE).encrypt(payload.encode())
        self.save(update_fields=["holder_ids", "pins_encrypted"])

    def holders(self) -> list[Holder]:
        by_id = Holder.objects.select_related("organisation").in_bulk(self.holder_ids)
        return [by_id[pk] for pk in self.holder_ids if pk in by_id]

    @property
    def available(self) -> bool:
        return self.wiped_at is None and timezone.now() < self.available_until

    def issued(self) -> list[tuple[Holder, str]]:
        """The holders with their PINs; empty once the PINs are wiped or their time is up."""
        if not self.available:
            return []
        row = PinHandover.objects.filter(pk=self.pk).values_list("pins_encrypted", flat=True)
        stored = bytes(row[0]) if row else b""
        if not stored:
            return []
        try:
            pins = json.loads(fernet(_PURPOSE).decrypt(stored))
        except InvalidToken:  # SECRET_KEY rotated: the PINs are gone, as after a wipe
            return []
        return [
            (holder, pins[str(holder.pk)]) for holder in self.holders() if str(holder.pk) in pins
        ]

    def show_once(self) -> bool:
        """Mark the PINs as shown on screen; False if they were shown before."""
        now = timezone.now()
        shown = PinHandover.objects.filter(pk=self.pk, shown_at=None).update(shown_at=now)
        if shown:
            self.shown_at = now
        return bool(shown)

    def wipe(self) -> None:
        """Forget the PINs now (the admin is done with them)."""
        now = timezone.now()
        PinHandover.objects.filter(pk=self.pk, wiped_at=None).update(
            pins_encrypted=b"", wiped_at=now
        )
        self.refresh_from_db(fields=["wiped_at"])
