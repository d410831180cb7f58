"""Addresses from which a system certificate was used but is not allowed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from enrollment.managers.refused_addresses import RefusedAddressManager
from enrollment.models.holders import Holder


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
