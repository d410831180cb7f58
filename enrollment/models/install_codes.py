"""The install codes that bind a downloaded installer to its enrollment."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.models.enrollments import Enrollment, EnrollmentStatus


class InstallCodeQuerySet(models.QuerySet["InstallCode"]):
    def usable(self) -> InstallCodeQuerySet:
        return self.filter(replaced_at=None, enrollment__expires_at__gt=timezone.now()).exclude(
            enrollment__status=EnrollmentStatus.EXPIRED
        )


class InstallCodeManager(models.Manager["InstallCode"]):
    def get_queryset(self) -> InstallCodeQuerySet:
        return InstallCodeQuerySet(self.model, using=self._db)

    @transaction.atomic
    def mint(self, enrollment: Enrollment) -> str:
        """A new install code for the enrollment; earlier ones stop working. Returns it in clear."""
        now = timezone.now()
        self.filter(enrollment=enrollment, replaced_at=None).update(replaced_at=now)
        code = secrets.token_urlsafe(32)
        self.create(enrollment=enrollment, code_hash=InstallCode.hash(code))
        return code

    def find(self, code: str) -> InstallCode | None:
        """The install code record for a presented code, whatever its state (or None)."""
        if not code or len(code) > 100:
            return None
        try:
            return self.select_related("enrollment__holder__organisation").get(
                code_hash=InstallCode.hash(code)
            )
        except InstallCode.DoesNotExist:
            return None


class InstallCode(models.Model):
    """Binds a downloaded installer to its enrollment.

    256 random bits, so a fast hash is enough at rest: unlike a PIN it cannot be guessed, and
    every status poll checks it (a password hash would cost ~0.2 s a poll).
    """

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="install_codes"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    replaced_at = models.DateTimeField(null=True, blank=True)

    objects = InstallCodeManager()

    class Meta:
        verbose_name = _("install code")
        verbose_name_plural = _("install codes")

    def __str__(self) -> str:
        return f"install code {self.pk} for enrollment {self.enrollment_id}"

    @staticmethod
    def hash(code: str) -> str:
        return hashlib.sha256(code.encode()).hexdigest()

    @property
    def is_usable(self) -> bool:
        enrollment = self.enrollment
        return (
            self.replaced_at is None
            and enrollment.status != EnrollmentStatus.EXPIRED
            and enrollment.expires_at > timezone.now()
        )
