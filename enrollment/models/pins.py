"""The PINs (activation codes) that admit a holder to the wizard, and their checking."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from enrollment import pin_attempts
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
    # After a wrong PIN: how many more wrong PINs block the number.
    attempts_left: int | None = None


# The states of a PIN in words, for the admin.
PIN_STATES = {
    "usable": _("usable, not used yet"),
    "used": _("used"),
    "replaced": _("replaced by a newer PIN"),
    "expired": _("expired unused"),
}

# Checked against when the user number is unknown, so that both answers take equally long.
_DUMMY_PIN_HASH = make_password("not-a-pin")


def _shadow_failure(user_number: str) -> PinVerdict:
    if pin_attempts.counted(user_number) >= settings.PIN_MAX_ATTEMPTS:
        return PinVerdict(PinCheck.BLOCKED)
    count = pin_attempts.count_wrong(user_number)
    if count >= settings.PIN_MAX_ATTEMPTS:
        return PinVerdict(PinCheck.BLOCKED)
    return PinVerdict(PinCheck.WRONG, attempts_left=settings.PIN_MAX_ATTEMPTS - count)


class ActivationCode(models.Model):
    """The PIN: stored as a password hash (it is short), single use, expiring."""

    holder = models.ForeignKey(
        Holder,
        on_delete=models.CASCADE,
        related_name="activation_codes",
        verbose_name=_("certificate holder"),
    )
    pin_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(_("issued"), auto_now_add=True)
    expires_at = models.DateTimeField(_("valid until"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("replaced"), null=True, blank=True)
    failed_attempts = models.PositiveIntegerField(_("wrong attempts"), default=0)
    reminder_sent_at = models.DateTimeField(_("reminder sent"), null=True, blank=True)

    objects = ActivationCodeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("PIN")
        verbose_name_plural = _("PINs")

    def __str__(self) -> str:
        # What an admin reads in the holder's list of PINs: when, and what became of it.
        if self.created_at is None:
            return str(_("new PIN"))
        return _("PIN of %(date)s, %(state)s") % {
            "date": date_format(timezone.localtime(self.created_at), "j F Y"),
            "state": self.get_state_display(),
        }

    @property
    def state(self) -> str:
        if self.used_at:
            return "used"
        if self.revoked_at:
            return "replaced"
        if self.expires_at <= timezone.now():
            return "expired"
        return "usable"

    def get_state_display(self) -> str:
        return str(PIN_STATES[self.state])

    @classmethod
    def verify(cls, user_number: str, pin: str) -> PinVerdict:
        """Check a user number and PIN; a wrong PIN counts against the user number.

        Runs in its own transaction, with the holder row locked, so that concurrent guesses
        are counted one by one and the block after the last allowed failure cannot be raced.
        """
        with transaction.atomic():
            # The holder's latest PIN with the holder, in one query that locks the holder.
            latest = (
                cls.objects.select_related("holder")
                .select_for_update(of=("holder",))
                .filter(holder__user_number=user_number, revoked_at=None)
                .order_by("-created_at")
                .first()
            )
            holder = (
                latest.holder
                if latest is not None
                else Holder.objects.select_for_update().filter(user_number=user_number).first()
            )
            if (
                holder is not None
                and holder.is_blocked
                and holder.block_reason == BlockReason.PIN_ATTEMPTS
            ):
                return PinVerdict(PinCheck.BLOCKED, holder)
            if latest is None or not check_password(pin, latest.pin_hash):
                if latest is None:
                    check_password(pin, _DUMMY_PIN_HASH)
                if latest is None or holder is None or holder.is_blocked:
                    # No PIN that can be tried: answered exactly as a real holder's wrong PIN.
                    return _shadow_failure(user_number)
                return latest._record_failure(holder)
            assert holder is not None
            if holder.is_blocked:  # by an admin; told only to who knows the PIN
                return PinVerdict(PinCheck.BLOCKED, holder)
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
        attempts_left = settings.PIN_MAX_ATTEMPTS - self.failed_attempts
        return PinVerdict(PinCheck.WRONG, holder, self, attempts_left=attempts_left)

    def consume(self) -> bool:
        """Mark the PIN used; False if it was used, replaced or expired meanwhile."""
        now = timezone.now()
        return bool(
            ActivationCode.objects.filter(
                pk=self.pk, used_at=None, revoked_at=None, expires_at__gt=now
            ).update(used_at=now)
        )
