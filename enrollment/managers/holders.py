"""The queryset and manager of holders (enrollment.models.holders): issuing a new holder."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.db.models.functions import Lower

from audit.models import AuditEntry, AuditEvent
from enrollment.choices import HolderKind, HolderStatus

if TYPE_CHECKING:
    from enrollment.models.holders import Holder
    from enrollment.models.organisations import Organisation


class HolderQuerySet(models.QuerySet["Holder"]):
    def active(self) -> HolderQuerySet:
        return self.filter(status=HolderStatus.ACTIVE)

    def same_as(self, keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], Holder]:
        """Existing holders with these (name, organisation name, kind), matched without case.

        Keyed by the lower-cased triple (``holder_key``), so that an import can ask before
        making a second "A. Janssen" at the same organisation. One query for any number.
        """
        wanted = {holder_key(*key) for key in keys}
        if not wanted:
            return {}
        found: dict[tuple[str, str, str], Holder] = {}
        rows = (
            self.annotate(organisation_lower=Lower("organisation__name"))
            .filter(organisation_lower__in={key[1] for key in wanted})
            .select_related("organisation")
        )
        for holder in rows:
            key = holder_key(holder.display_name, holder.organisation.name, holder.kind)
            if key in wanted:
                found.setdefault(key, holder)
        return found


def holder_key(name: str, organisation: str, kind: str) -> tuple[str, str, str]:
    """What makes two holders the same to an admin: name, organisation, kind (any case)."""
    fold = lambda text: " ".join(unicodedata.normalize("NFC", text).split()).lower()  # noqa: E731
    return fold(name), fold(organisation), kind


class HolderManager(models.Manager["Holder"]):
    def get_queryset(self) -> HolderQuerySet:
        return HolderQuerySet(self.model, using=self._db)

    @transaction.atomic
    def issue(
        self,
        *,
        display_name: str,
        organisation: Organisation,
        contact_email: str,
        kind: str = HolderKind.PERSONAL,
        allowed_networks: str = "",
        pin_delivery: str = "letter",
        messagebox_address: str = "",
        is_contact_person: bool = False,
        actor: str = "system",
        client_address: str | None = None,
        prepared_pin: tuple[str, str] | None = None,
    ) -> tuple[Holder, str]:
        """Create a holder with a fresh user number and PIN; e-mail the number to the contact.

        Returns the holder and the PIN in clear, which the caller shows once and forgets.
        One transaction holds the holder, its PIN, the composed mail (outbox) and the audit
        entry: whatever can fail, the mail's headers included, fails before it commits, and
        the mail is sent after it (the outbox), so sending cannot undo or hide it.
        """
        holder = self.model(
            display_name=display_name,
            organisation=organisation,
            contact_email=contact_email,
            kind=kind,
            allowed_networks=allowed_networks,
            pin_delivery=pin_delivery,
            messagebox_address=messagebox_address,
            is_contact_person=is_contact_person,
        )
        holder.full_clean(exclude=["user_number"])
        holder.save_with_new_user_number()
        # The first PIN is part of the holder's issue: its HOLDER_ISSUED entry records both.
        pin, _lifted = holder._replace_pin(
            actor=actor, client_address=client_address, prepared=prepared_pin
        )
        holder._store_user_number_mail()
        AuditEntry.objects.record(
            AuditEvent.HOLDER_ISSUED,
            holder,
            actor=actor,
            client_address=client_address,
            details={
                "user_number": holder.user_number,
                "kind": holder.kind,
                "organisation": holder.organisation_id,
            },
        )
        return holder, pin
