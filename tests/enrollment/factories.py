"""Factories for the registration authority's records."""

from __future__ import annotations

import itertools

from django.utils import timezone

from enrollment.models import Holder, HolderKind, Organisation, PolicyDocument

_numbers = itertools.count(1)


def make_organisation(name: str | None = None, *, postal_address: bool = True) -> Organisation:
    """An organisation, with a postal address for PIN letters unless told otherwise."""
    address = (
        {"postal_address": "Postbus 1234", "postal_code": "1000 AB", "city": "Amsterdam"}
        if postal_address
        else {}
    )
    organisation, _created = Organisation.objects.get_or_create(
        name=name or f"Zorggroep {next(_numbers)}", defaults=address
    )
    return organisation


def make_policy(version: str = "1.0") -> PolicyDocument:
    document, _created = PolicyDocument.objects.get_or_create(
        version=version,
        defaults={
            "title": "CP/CPS",
            "body": "Eerste alinea.\n\nTweede alinea.",
            "published_at": timezone.now(),
        },
    )
    return document


def issue_holder(
    kind: str = HolderKind.PERSONAL,
    name: str = "A. Janssen",
    *,
    organisation: Organisation | None = None,
    contact_email: str = "contact@example.org",
    allowed_networks: str = "",
) -> tuple[Holder, str]:
    """A holder made the way admins make them, with the PIN in clear."""
    return Holder.objects.issue(
        display_name=name,
        organisation=organisation or make_organisation(),
        contact_email=contact_email,
        kind=kind,
        allowed_networks=allowed_networks,
    )


# The factory_boy-style names that earlier tests use.
PolicyFactory = make_policy
OrganisationFactory = make_organisation
