"""The manager of PIN handovers (enrollment.models.handovers): claiming a form's token."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from enrollment.choices import HandoverPurpose

if TYPE_CHECKING:
    from enrollment.models.handovers import PinHandover


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AlreadyDone(Exception):
    """The form's token was used before: nothing was issued again."""

    def __init__(self, handover: PinHandover) -> None:
        super().__init__(f"handover {handover.pk} was made already")
        self.handover = handover


class MissingToken(ValueError):
    """The submit carries no one-time token: a form from before it had one, or forged."""


# Tokens are made by ``secrets.token_urlsafe(24)`` (32 characters).
MIN_TOKEN_LENGTH = 20


class PinHandoverManager(models.Manager["PinHandover"]):
    def used(self, token: str) -> PinHandover | None:
        """The handover that this token's first submit made, if it was submitted before."""
        if len(token) < MIN_TOKEN_LENGTH:
            return None
        return self.filter(token_hash=token_hash(token)).first()

    def claim(self, token: str, *, purpose: str, admin_id: int) -> PinHandover:
        """Take the form's one-time token for this submit, or raise AlreadyDone.

        In the caller's transaction, which then issues: a concurrent second submit waits on
        the unique index until the first commits, and then finds the token taken. If the
        first rolls back, the token is free again and the second goes ahead.
        """
        if len(token) < MIN_TOKEN_LENGTH:
            raise MissingToken("the form has no one-time token")
        digest = token_hash(token)
        self.wipe_stale()
        try:
            with transaction.atomic():
                return self.create(
                    token_hash=digest,
                    purpose=purpose,
                    admin_id=admin_id,
                    available_until=timezone.now()
                    + timedelta(minutes=settings.PIN_HANDOVER_MINUTES),
                )
        except IntegrityError:
            raise AlreadyDone(self.get(token_hash=digest)) from None

    def for_import(self, *, admin_id: int, import_id: int) -> PinHandover:
        """The handover of a CSV import, one per import (its claim is the import's own)."""
        handover, _created = self.get_or_create(
            token_hash=token_hash(f"holder-import:{import_id}"),
            defaults={
                "purpose": HandoverPurpose.IMPORT,
                "admin_id": admin_id,
                "available_until": timezone.now()
                + timedelta(minutes=settings.PIN_HANDOVER_MINUTES),
            },
        )
        return handover

    def wipe_stale(self) -> int:
        """Forget the PINs of handovers past their time (run on every claim)."""
        return (
            self.filter(available_until__lte=timezone.now(), wiped_at=None)
            .exclude(pins_encrypted=b"")
            .update(pins_encrypted=b"", wiped_at=timezone.now())
        )
