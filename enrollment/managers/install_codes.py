"""The queryset and manager of install codes (enrollment.models.install_codes): minting, finding."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.utils import timezone

from enrollment.choices import EnrollmentStatus

if TYPE_CHECKING:
    from enrollment.models.enrollments import Enrollment
    from enrollment.models.install_codes import InstallCode


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
        self.create(enrollment=enrollment, code_hash=self.model.hash(code))
        return code

    def find(self, code: str) -> InstallCode | None:
        """The install code record for a presented code, whatever its state (or None)."""
        if not code or len(code) > 100:
            return None
        try:
            return self.select_related("enrollment__holder__organisation").get(
                code_hash=self.model.hash(code)
            )
        except self.model.DoesNotExist:
            return None
