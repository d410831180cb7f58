"""The queryset and manager of the outbox (enrollment.models.outgoing_mail): storing and sending."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.mail import EmailMessage
from django.db import models
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.encryption import fernet
from core.queue import queue_after_commit

if TYPE_CHECKING:
    from enrollment.models.outgoing_mail import OutgoingMail

_PURPOSE = "enrollment.outgoing-mail"
# The longest one send may take before the row is due again: above the SMTP timeout for
# connecting, greeting and sending, so a slow send is not sent twice beside itself.
SEND_LEASE = timedelta(minutes=5)
SWEEP_LIMIT = 200


def checked(message: EmailMessage) -> EmailMessage:
    """``message`` with its headers built once, which is where Django refuses bad values.

    A line break in a subject or an address that cannot be encoded raises here, inside the
    caller's transaction, as a ValidationError that forms and commands report.
    """
    try:
        message.message()
    except ValueError as exc:  # BadHeaderError is a ValueError, as are bad addresses
        problem = ValidationError(
            _("This mail cannot be composed: %(reason)s"),
            code="bad_mail_header",
            params={"reason": str(exc)[:300]},
        )
        # Keyed like a model's clean() error, so every caller can read message_dict.
        raise ValidationError({NON_FIELD_ERRORS: [problem]}) from None
    return message


class OutgoingMailQuerySet(models.QuerySet["OutgoingMail"]):
    def due(self) -> OutgoingMailQuerySet:
        return self.filter(sent_at=None, failed_at=None, next_attempt_at__lte=timezone.now())


class OutgoingMailManager(models.Manager["OutgoingMail"]):
    def get_queryset(self) -> OutgoingMailQuerySet:
        return OutgoingMailQuerySet(self.model, using=self._db)

    def store(self, message: EmailMessage, *, kind: str) -> OutgoingMail:
        """Keep a mail to send once the caller's transaction commits (call it inside one)."""
        checked(message)
        row = self.create(
            kind=kind,
            subject=str(message.subject),
            from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
            recipients=[str(address) for address in message.to],
            body_encrypted=fernet(_PURPOSE).encrypt(str(message.body).encode()),
            next_attempt_at=timezone.now(),
        )
        queue_after_commit("enrollment.send_outgoing_mail", row.pk)
        return row

    def send_due(self, limit: int = SWEEP_LIMIT) -> int:
        """Send what is due, oldest first; the number sent."""
        due = self.get_queryset().due().order_by("next_attempt_at", "pk")
        return sum(self.send(pk) for pk in due.values_list("pk", flat=True)[:limit])

    def send(self, pk: int) -> bool:
        """Send one mail if it is due; False if it was not due, not sent, or given up."""
        now = timezone.now()
        # The claim: a conditional UPDATE that one sender wins (the on-commit task and a
        # sweep may both try); the lease makes the row due again if this process dies.
        claimed = (
            self.get_queryset()
            .due()
            .filter(pk=pk)
            .update(next_attempt_at=now + SEND_LEASE, attempts=F("attempts") + 1)
        )
        if not claimed:
            return False
        row = self.get(pk=pk)
        try:
            body = fernet(_PURPOSE).decrypt(bytes(row.body_encrypted)).decode()
        except InvalidToken:
            row._give_up("the body cannot be decrypted (SECRET_KEY changed?)")
            return False
        message = EmailMessage(
            subject=row.subject, body=body, from_email=row.from_email, to=row.recipients
        )
        try:
            message.send()
        except Exception as exc:  # SMTP, DNS, TLS: whatever it is, record it and retry
            row._record_failure(f"{type(exc).__name__}: {exc}")
            return False
        self.filter(pk=pk).update(sent_at=timezone.now(), body_encrypted=b"", last_error="")
        return True
