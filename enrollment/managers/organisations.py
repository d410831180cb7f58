"""The manager of organisations (enrollment.models.organisations)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from enrollment.models.organisations import Organisation


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
