"""Factories for the registration authority's records."""

from __future__ import annotations

import factory
from django.utils import timezone

from enrollment.models import Holder, HolderKind, Organisation, PolicyDocument


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Zorggroep {n}")


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyDocument
        django_get_or_create = ("version",)

    version = "1.0"
    title = "CP/CPS"
    body = "Eerste alinea.\n\nTweede alinea."
    published_at = factory.LazyFunction(timezone.now)


def issue_holder(kind: str = HolderKind.PERSONAL, name: str = "A. Janssen", **kwargs: object) -> tuple[Holder, str]:
    """A holder made the way admins make them, with the PIN in clear."""
    return Holder.objects.issue(
        display_name=name,
        organisation=kwargs.pop("organisation", None) or OrganisationFactory(),
        contact_email=str(kwargs.pop("contact_email", "contact@example.org")),
        kind=kind,
        **kwargs,  # type: ignore[arg-type]
    )
