"""Addresses from which a system certificate was used but is not allowed."""

from __future__ import annotations

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.models.holders import Holder


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


class RefusedAddress(models.Model):
    """An address from which a system certificate was used but is not allowed."""

    holder = models.ForeignKey(Holder, on_delete=models.CASCADE, related_name="refused_addresses")
    address = models.GenericIPAddressField(_("address"))
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    first_seen = models.DateTimeField(_("first seen"))
    last_seen = models.DateTimeField(_("last seen"))

    objects = RefusedAddressManager()

    class Meta:
        ordering = ["-last_seen"]
        verbose_name = _("refused address")
        verbose_name_plural = _("refused addresses")
        constraints = [
            models.UniqueConstraint(
                fields=["holder", "address"], name="refused_address_once_per_holder"
            )
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.holder})"
