"""The organisations whose people and systems hold certificates."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEntry, AuditEvent
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
    # Where PIN letters go (a window envelope shows these lines); all three or none.
    postal_address = PlainTextField(
        _("street and number or PO box"),
        max_length=100,
        blank=True,
        help_text=_("For PIN letters, e.g. “Postbus 1234” or “Dorpsstraat 12”."),
    )
    postal_code = PlainTextField(
        _("postcode"),
        max_length=10,
        blank=True,
        validators=[
            RegexValidator(
                r"(?i)\A[1-9][0-9]{3} ?[A-Z]{2}\Z",
                _("A Dutch postcode has four digits and two capital letters, e.g. 1234 AB."),
            )
        ],
    )
    city = PlainTextField(_("town or city"), max_length=80, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = OrganisationManager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if len(self.postal_code) in (6, 7):  # "1234ab" and "1234 ab" are written "1234 AB"
            self.postal_code = f"{self.postal_code[:4]} {self.postal_code[-2:].upper()}"
        given = [bool(self.postal_address), bool(self.postal_code), bool(self.city)]
        if any(given) and not all(given):
            missing = {
                "postal_address": _("Give the street and number or PO box as well."),
                "postal_code": _("Give the postcode as well."),
                "city": _("Give the town or city as well."),
            }
            raise ValidationError(
                {
                    field: message
                    for (field, message), present in zip(missing.items(), given, strict=True)
                    if not present
                }
            )

    @property
    def has_postal_address(self) -> bool:
        return bool(self.postal_address and self.postal_code and self.city)

    def address_lines(self) -> list[str]:
        """The lines a window envelope shows, below the addressee (empty if not known)."""
        if not self.has_postal_address:
            return []
        return [self.postal_address, f"{self.postal_code}  {self.city.upper()}"]

    @transaction.atomic
    def save_by_admin(self, *, actor: str, client_address: str | None, changed: list[str]) -> None:
        """Save what an admin entered, with an audit entry naming the admin and the fields."""
        created = self._state.adding
        self.save()
        AuditEntry.objects.record(
            AuditEvent.ORGANISATION_CREATED if created else AuditEvent.ORGANISATION_CHANGED,
            self,
            actor=actor,
            client_address=client_address,
            details={"name": self.name, "fields": sorted(changed)},
        )
