"""The manager of refused addresses (enrollment.models.refused_addresses): counting refusals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

if TYPE_CHECKING:
    from enrollment.models.holders import Holder
    from enrollment.models.refused_addresses import RefusedAddress  # noqa: F401 (type parameter)


class RefusedAddressManager(models.Manager["RefusedAddress"]):
    def record(self, holder: Holder, address: str) -> None:
        """Count a refused use of a system certificate; one row per holder and address."""
        now = timezone.now()
        counted = self.filter(holder=holder, address=address).update(
            attempts=F("attempts") + 1, last_seen=now
        )
        if counted:
            return
        try:
            with transaction.atomic():
                self.create(holder=holder, address=address, first_seen=now, last_seen=now)
        except IntegrityError:  # a concurrent refusal created the row first
            self.filter(holder=holder, address=address).update(
                attempts=F("attempts") + 1, last_seen=now
            )
