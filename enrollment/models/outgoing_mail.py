"""The outbox: mail the registration authority sends, kept in the database until it is sent.

A mail is composed (its headers built and checked) inside the transaction that makes the
record it is about, and stored in that transaction. Once the transaction commits, a task
sends it (``enrollment.send_outgoing_mail``); a beat sweep (``enrollment.sweep_outgoing_mail``)
retries what failed or never reached the broker, with a growing delay, and records every
attempt. So a mail server that is down never undoes a holder or hides their PIN, and a
holder never exists without its mail. Storing and sending are the manager's
(``enrollment.managers.outgoing_mail``); recording a failure is the row's.

The body can hold a PIN (message-box delivery), so it is encrypted at rest and dropped as
soon as the mail is sent or given up; the broker only ever carries the row's id. Neither
the body nor the PIN is logged.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.managers.outgoing_mail import OutgoingMailManager

logger = logging.getLogger(__name__)

# The first retry after a minute, then twice as long each time, at most an hour apart.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


class OutgoingMail(models.Model):
    kind = models.CharField(_("kind"), max_length=30)
    subject = models.CharField(_("subject"), max_length=998)
    from_email = models.CharField(_("from"), max_length=400)
    recipients = models.JSONField(_("recipients"), default=list)
    # Fernet token of the body; emptied once the mail is sent or given up.
    body_encrypted = models.BinaryField(editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    failed_at = models.DateTimeField(_("given up"), null=True, blank=True)

    objects = OutgoingMailManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("outgoing mail")

    def __str__(self) -> str:
        return f"{self.kind} mail {self.pk} to {', '.join(self.recipients)}"

    def _record_failure(self, error: str) -> None:
        attempts = OutgoingMail.objects.filter(pk=self.pk).values_list("attempts", flat=True)[0]
        if attempts >= settings.MAIL_MAX_ATTEMPTS:
            self._give_up(error)
            return
        OutgoingMail.objects.filter(pk=self.pk, sent_at=None).update(
            next_attempt_at=timezone.now() + retry_delay(attempts), last_error=error[:2000]
        )
        logger.warning("mail %s not sent (attempt %s); will retry: %s", self.pk, attempts, error)

    def _give_up(self, error: str) -> None:
        OutgoingMail.objects.filter(pk=self.pk, sent_at=None).update(
            failed_at=timezone.now(), body_encrypted=b"", last_error=error[:2000]
        )
        logger.error("mail %s given up: %s", self.pk, error)
