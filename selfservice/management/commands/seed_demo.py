"""Demo data for `make run`: a CP/CPS, an organisation, one personal holder (its contact person)
and one system holder, with fresh PINs; in development mode also the personal holder's
authenticator, so the demo can log in with a code from an app or `oathtool`.

It lives in selfservice, not enrollment, because the authenticator is selfservice's
(HolderAccount) and enrollment may not import the layer above it.
"""

from __future__ import annotations

import base64
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from enrollment.models import Holder, HolderKind, Organisation, PolicyDocument
from selfservice.login import otpauth_uri
from selfservice.models import HolderAccount

DEMO_ORGANISATION = "Demo Zorggroep"
DEMO_POLICY = """Dit is de demonstratieversie van het certificaatbeleid (CP/CPS) van dit portaal.

Een persoonlijk certificaat is strikt persoonlijk: alleen de persoon op wiens naam het staat, mag het gebruiken. Een systeemcertificaat is gebonden aan een organisatie en wordt alleen gebruikt door haar software.

De sleutel bij het certificaat wordt op de computer van de gebruiker gemaakt en verlaat die nooit. Meld verlies of misbruik direct, zodat het certificaat kan worden ingetrokken."""
ACTOR = "command:seed_demo"
# (name, kind, allowed networks, contact person)
DEMO_HOLDERS = [
    ("A. Janssen", HolderKind.PERSONAL, "", True),
    ("Demo Koppeling", HolderKind.SYSTEM, "127.0.0.0/8\n::1/128", False),
]


def demo_authenticator(holder: Holder) -> str:
    """The holder's authenticator as an otpauth URI, linked now if it was not yet."""
    account = HolderAccount.of(holder)
    secret = account.secret() if account.has_authenticator else None
    if secret is None:
        secret = account.new_secret()
        account.confirm_authenticator()
    return otpauth_uri(holder, secret)


class Command(BaseCommand):
    help = "Create demo data and print fresh PINs for the demo holders."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if PolicyDocument.objects.current() is None:
            PolicyDocument.objects.get_or_create(
                version="1.0",
                defaults={"title": "CP/CPS", "body": DEMO_POLICY, "published_at": timezone.now()},
            )
        organisation, _ = Organisation.objects.get_or_create(name=DEMO_ORGANISATION)
        authenticators = []
        for name, kind, networks, contact in DEMO_HOLDERS:
            holder = Holder.objects.filter(organisation=organisation, display_name=name).first()
            if holder is None:
                holder, pin = Holder.objects.issue(
                    display_name=name,
                    organisation=organisation,
                    contact_email="contact@demo.invalid",
                    kind=kind,
                    allowed_networks=networks,
                    is_contact_person=contact,
                    actor=ACTOR,
                )
            else:
                pin = holder.issue_pin(actor=ACTOR)
            label = (
                "persoonlijk certificaat" if kind == HolderKind.PERSONAL else "systeemcertificaat"
            )
            self.stdout.write(
                f"  {label:<24} {name:<16} gebruikersnummer {holder.user_number}  pincode {pin}"
            )
            if kind == HolderKind.PERSONAL and settings.PORTAL_MODE == "development":
                authenticators.append((name, demo_authenticator(holder)))
        for name, uri in authenticators:
            secret = uri.split("secret=", 1)[1].split("&", 1)[0]
            self.stdout.write(
                f"Authenticator-app van {name} (alleen in de ontwikkelversie / development only):\n"
                f"  {uri}\n"
                f"  code: oathtool --totp --base32 {secret}"
            )


def secret_of(uri: str) -> bytes:
    """The raw secret in an otpauth URI that this command printed (for tests and tools)."""
    text = uri.split("secret=", 1)[1].split("&", 1)[0]
    return base64.b32decode(text + "=" * (-len(text) % 8))
