"""The PINs (activation codes) that admit a holder to the wizard, and their checking."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.choices import BlockReason
from enrollment.managers.pins import ActivationCodeQuerySet
from enrollment.models.holders import Holder


class PinCheck(enum.Enum):
    OK = "ok"
    WRONG = "wrong"  # unknown user number or wrong PIN: indistinguishable on purpose
    BLOCKED = "blocked"
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True)
class PinVerdict:
    result: PinCheck
    holder: Holder | None = None
    code: ActivationCode | None = None


# Checked against when the user number is unknown, so that both answers take equally long.
_DUMMY_PIN_HASH = make_password("not-a-pin")


class ActivationCode(models.Model):
    """The PIN: stored as a password hash (it is short), single use, expiring."""

    holder = models.ForeignKey(Holder, on_delete=models.CASCADE, related_name="activation_codes")
    pin_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveIntegerField(default=0)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    objects = ActivationCodeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("PIN")
        verbose_name_plural = _("PINs")

    def __str__(self) -> str:
        return f"PIN for {self.holder_id} ({self.created_at:%Y-%m-%d})"

    @property
    def state(self) -> str:
        if self.used_at:
            return "used"
        if self.revoked_at:
            return "replaced"
        if self.expires_at <= timezone.now():
            return "expired"
        return "usable"

    @classmethod
    def verify(cls, user_number: str, pin: str) -> PinVerdict:
        """Check a user number and PIN; a wrong PIN counts against the user number.

        Runs in its own transaction, with the holder row locked, so that concurrent guesses
        are counted one by one and the block after the last allowed failure cannot be raced.
        """
        with transaction.atomic():
            holder = Holder.objects.select_for_update().filter(user_number=user_number).first()
            if holder is None:
                check_password(pin, _DUMMY_PIN_HASH)
                return PinVerdict(PinCheck.WRONG)
            if holder.is_blocked:
                return PinVerdict(PinCheck.BLOCKED, holder)
            latest = holder.activation_codes.filter(revoked_at=None).order_by("-created_at").first()
            if latest is None or not check_password(pin, latest.pin_hash):
                if latest is None:
                    check_password(pin, _DUMMY_PIN_HASH)
                    return PinVerdict(PinCheck.WRONG, holder)
                return latest._record_failure(holder)
            if latest.used_at is not None:
                return PinVerdict(PinCheck.USED, holder, latest)
            if latest.expires_at <= timezone.now():
                return PinVerdict(PinCheck.EXPIRED, holder, latest)
            return PinVerdict(PinCheck.OK, holder, latest)

    def _record_failure(self, holder: Holder) -> PinVerdict:
        ActivationCode.objects.filter(pk=self.pk).update(failed_attempts=F("failed_attempts") + 1)
        self.refresh_from_db(fields=["failed_attempts"])
        if self.failed_attempts >= settings.PIN_MAX_ATTEMPTS:
            holder.block(BlockReason.PIN_ATTEMPTS, actor=f"system:{BlockReason.PIN_ATTEMPTS}")
            return PinVerdict(PinCheck.BLOCKED, holder, self)
        return PinVerdict(PinCheck.WRONG, holder, self)

    def consume(self) -> bool:
        """Mark the PIN used; False if it was used, replaced or expired meanwhile."""
        now = timezone.now()
        return bool(
            ActivationCode.objects.filter(
                pk=self.pk, used_at=None, revoked_at=None, expires_at__gt=now
            ).update(used_at=now)
        )
