"""The queryset of PINs (enrollment.models.pins): usable ones and those about to expire."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from enrollment.models.pins import ActivationCode  # noqa: F401 (type parameter)


class ActivationCodeQuerySet(models.QuerySet["ActivationCode"]):
    def usable(self) -> ActivationCodeQuerySet:
        return self.filter(used_at=None, revoked_at=None, expires_at__gt=timezone.now())

    def expiring_unused(self) -> ActivationCodeQuerySet:
        """Usable PINs that expire within the reminder period and were not yet reminded of."""
        soon = timezone.now() + timedelta(days=settings.ENROLLMENT_REMINDER_DAYS)
        return self.usable().filter(expires_at__lte=soon, reminder_sent_at=None)
