"""Holder accounts: the authenticator app and failed logins of a certificate holder."""

from __future__ import annotations

import secrets

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django_otp.oath import TOTP

from ca.interface import Certificate
from core import encryption
from enrollment.models import BlockReason, Holder

TOTP_TOLERANCE = 1  # one 30-second step either way: phones' clocks drift


def _fernet() -> Fernet:
    # The key that encrypts authenticator secrets at rest, derived from SECRET_KEY.
    return encryption.fernet("portal.totp-secrets")


class HolderAccount(models.Model):
    holder = models.OneToOneField(Holder, on_delete=models.CASCADE, related_name="account")
    totp_secret_encrypted = models.BinaryField(null=True, blank=True)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last accepted time step: a code is never accepted twice (RFC 6238 §5.2).
    totp_last_step = models.BigIntegerField(default=-1)
    failed_logins = models.PositiveIntegerField(default=0)
    last_login_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"account of {self.holder}"

    @classmethod
    def of(cls, holder: Holder) -> HolderAccount:
        account, _created = cls.objects.get_or_create(holder=holder)
        return account

    @property
    def has_authenticator(self) -> bool:
        return self.totp_confirmed_at is not None

    def new_secret(self) -> bytes:
        """Start (or restart) authenticator setup with a fresh secret, unconfirmed."""
        secret = secrets.token_bytes(20)
        self.totp_secret_encrypted = _fernet().encrypt(secret)
        self.totp_confirmed_at = None
        self.totp_last_step = -1
        self.save(update_fields=["totp_secret_encrypted", "totp_confirmed_at", "totp_last_step"])
        return secret

    def secret(self) -> bytes | None:
        if not self.totp_secret_encrypted:
            return None
        try:
            return _fernet().decrypt(bytes(self.totp_secret_encrypted))
        except InvalidToken:
            return None

    def verify_code(self, code: str) -> bool:
        """Check a 6-digit code; a code (time step) that was used before is refused."""
        secret = self.secret()
        if secret is None or not (code.isdigit() and len(code) == 6):
            return False
        with transaction.atomic():
            locked = HolderAccount.objects.select_for_update().get(pk=self.pk)
            totp = TOTP(secret, step=30, digits=6)
            if not totp.verify(
                int(code), tolerance=TOTP_TOLERANCE, min_t=locked.totp_last_step + 1
            ):
                return False
            HolderAccount.objects.filter(pk=self.pk).update(totp_last_step=totp.t())
            self.totp_last_step = totp.t()
        return True

    def confirm_authenticator(self) -> None:
        HolderAccount.objects.filter(pk=self.pk).update(totp_confirmed_at=timezone.now())
        self.refresh_from_db(fields=["totp_confirmed_at"])

    def record_failure(self) -> bool:
        """Count a wrong password or code; True when this one blocked the holder."""
        if self.failed_logins >= settings.LOGIN_MAX_FAILURES and not self.holder.is_blocked:
            # Unblocked since the last block: start counting afresh.
            HolderAccount.objects.filter(pk=self.pk).update(failed_logins=0)
        HolderAccount.objects.filter(pk=self.pk).update(failed_logins=F("failed_logins") + 1)
        self.refresh_from_db(fields=["failed_logins"])
        if self.failed_logins >= settings.LOGIN_MAX_FAILURES:
            self.holder.block(
                BlockReason.LOGIN_ATTEMPTS, actor=f"system:{BlockReason.LOGIN_ATTEMPTS}"
            )
            return True
        return False

    def record_success(self) -> None:
        HolderAccount.objects.filter(pk=self.pk).update(
            failed_logins=0, last_login_at=timezone.now()
        )


REMINDER_DAYS = (60, 30, 7)


class ExpiryReminder(models.Model):
    """That a certificate's holder was told it expires in ``days`` days: each at most once.

    The unique constraint is the claim: a second beat or a retried task that tries to record
    the same reminder fails to insert and sends nothing.
    """

    certificate = models.ForeignKey(
        Certificate, on_delete=models.CASCADE, related_name="expiry_reminders"
    )
    days = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["certificate", "days"], name="expiry_reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.days}-day reminder for certificate {self.certificate_id}"
