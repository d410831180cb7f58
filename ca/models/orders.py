"""Orders: a CSR the RA ordered a certificate for, and its way to a worker that signs it.

State changes are named manager methods (``ca.managers.orders``) doing a conditional UPDATE
or working under ``select_for_update``, so two workers and a redelivered task can act at the
same time without issuing twice.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ca.choices import OrderStatus
from ca.managers.orders import OrderManager


class Order(models.Model):
    # What the registration authority calls this order (its enrollment's public id): the CA
    # reports progress and results under it and knows nothing else of the RA's records.
    reference = models.UUIDField(_("reference"))
    # The RA's name for the holder, so that blocking them can put all their certificates on hold.
    holder_reference = models.CharField(_("holder reference"), max_length=40)
    # The profile *name*: the certificate contents are decided by ca.profiles, not the caller.
    profile = models.CharField(_("profile"), max_length=20)
    # The subject as the RA wrote it when ordering (ca.profiles.Holder's fields): with the
    # CSR's public key, all the certificate is built from.
    subject = models.JSONField(_("subject"))
    csr_der = models.BinaryField()
    status = models.CharField(
        _("status"), max_length=12, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = OrderManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("certificate order")
        verbose_name_plural = _("certificate orders")
        constraints = [
            models.UniqueConstraint(
                fields=["reference"],
                condition=~Q(status="failed"),
                name="order_one_live_per_reference",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="order_status_created"),
            models.Index(fields=["reference", "created_at"], name="order_reference_created"),
        ]

    def __str__(self) -> str:
        return f"order {self.pk} ({self.status})"
