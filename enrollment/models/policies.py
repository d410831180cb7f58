"""The CP/CPS versions that a holder agrees to when enrolling."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.managers.policies import PolicyDocumentQuerySet


class PolicyDocument(models.Model):
    """A version of the Certificate Policy / Certification Practice Statement (CP/CPS)."""

    version = models.CharField(
        _("version"),
        max_length=20,
        unique=True,
        validators=[
            RegexValidator(r"\A[0-9A-Za-z.\-]+\Z", _("Use digits, letters, dots and dashes."))
        ],
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), help_text=_("Plain text; blank lines separate paragraphs."))
    published_at = models.DateTimeField(
        _("published at"),
        null=True,
        blank=True,
        help_text=_("Empty while in draft. The most recently published version is current."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PolicyDocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("CP/CPS version")
        verbose_name_plural = _("CP/CPS versions")

    def __str__(self) -> str:
        return f"{self.title} {self.version}"

    def publish(self) -> None:
        PolicyDocument.objects.filter(pk=self.pk, published_at=None).update(
            published_at=timezone.now()
        )
        self.refresh_from_db(fields=["published_at"])

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.replace("\r\n", "\n").split("\n\n") if p.strip()]
