"""The consents a holder gave at step 6, each with the CP/CPS version it was given to."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from enrollment.choices import ConsentKind
from enrollment.models.policies import PolicyDocument


class Consent(models.Model):
    enrollment = models.ForeignKey(
        "enrollment.Enrollment", on_delete=models.CASCADE, related_name="consents"
    )
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    policy = models.ForeignKey(PolicyDocument, on_delete=models.PROTECT, related_name="consents")
    accepted_at = models.DateTimeField()
    client_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "kind"], name="consent_once_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.policy.version})"
