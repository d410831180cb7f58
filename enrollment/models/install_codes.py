"""The install codes that bind a downloaded installer to its enrollment."""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.choices import EnrollmentStatus
from enrollment.managers.install_codes import InstallCodeManager
from enrollment.models.enrollments import Enrollment


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
