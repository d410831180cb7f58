"""The queryset of the CP/CPS versions (enrollment.models.policies): published and current."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from enrollment.models.policies import PolicyDocument


class PolicyDocumentQuerySet(models.QuerySet["PolicyDocument"]):
    def published(self) -> PolicyDocumentQuerySet:
        return self.filter(published_at__isnull=False, published_at__lte=timezone.now())

    def current(self) -> PolicyDocument | None:
        return self.published().order_by("-published_at", "-pk").first()
