"""The organisations whose people and systems hold certificates."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.plain_text import PlainTextField


class OrganisationManager(models.Manager["Organisation"]):
    def find_or_create(self, name: str, agb_code: str = "") -> Organisation:
        """The organisation of this name as the field normalises it, created if new.

        Validated like the admin form validates it (ValidationError), so the CSV import and
        ``issue_holder`` store no name that the form would refuse.
        """
        candidate = self.model(name=name, agb_code=agb_code)
        candidate.full_clean(validate_unique=False)
        organisation, _created = self.get_or_create(
            name=candidate.name, defaults={"agb_code": candidate.agb_code}
        )
        return organisation


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
