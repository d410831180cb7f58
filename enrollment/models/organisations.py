"""The organisations whose people and systems hold certificates."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.plain_text import PlainTextField
from enrollment.managers.organisations import OrganisationManager


class Organisation(models.Model):
    name = PlainTextField(_("name"), max_length=200, unique=True)
    agb_code = PlainTextField(
        _("AGB code"),
        max_length=8,
        blank=True,
        # [0-9], not \d: \d also takes other scripts' digits ("١٢٣…").
        validators=[RegexValidator(r"\A[0-9]{8}\Z", _("An AGB code has 8 digits."))],
        help_text=_("Optional: the organisation's 8-digit AGB code."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = OrganisationManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name
