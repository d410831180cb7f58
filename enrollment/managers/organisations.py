"""The manager of organisations (enrollment.models.organisations)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from enrollment.models.organisations import Organisation


class OrganisationManager(models.Manager["Organisation"]):
    def find_or_create(
        self,
        name: str,
        agb_code: str = "",
        *,
        postal_address: str = "",
        postal_code: str = "",
        city: str = "",
    ) -> Organisation:
        """The organisation of this name as the field normalises it, created if new.

        Validated like the admin form validates it (ValidationError), so the CSV import and
        ``issue_holder`` store no name that the form would refuse. The AGB code and postal
        address are those of a new organisation; an existing one keeps its own.
        """
        candidate = self.model(
            name=name,
            agb_code=agb_code,
            postal_address=postal_address,
            postal_code=postal_code,
            city=city,
        )
        candidate.full_clean(validate_unique=False)
        organisation, _created = self.get_or_create(
            name=candidate.name,
            defaults={
                "agb_code": candidate.agb_code,
                "postal_address": candidate.postal_address,
                "postal_code": candidate.postal_code,
                "city": candidate.city,
            },
        )
        return organisation
