"""Demo data for `make run`: a CP/CPS, an organisation and one personal and one system holder."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from enrollment.models import Holder, HolderKind, Organisation, PolicyDocument

DEMO_ORGANISATION = "Demo Zorggroep"
DEMO_POLICY = """Dit is de demonstratieversie van het certificaatbeleid (CP/CPS) van dit portaal.

Een persoonlijk certificaat is strikt persoonlijk: alleen de persoon op wiens naam het staat, mag het gebruiken. Een systeemcertificaat is gebonden aan een organisatie en wordt alleen gebruikt door haar software.

De sleutel bij het certificaat wordt op de computer van de gebruiker gemaakt en verlaat die nooit. Meld verlies of misbruik direct, zodat het certificaat kan worden ingetrokken."""


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
        demo = [
            ("A. Janssen", HolderKind.PERSONAL, ""),
            ("Demo Koppeling", HolderKind.SYSTEM, "127.0.0.0/8\n::1/128"),
        ]
        for name, kind, networks in demo:
            holder = Holder.objects.filter(organisation=organisation, display_name=name).first()
            if holder is None:
                holder, pin = Holder.objects.issue(
                    display_name=name,
                    organisation=organisation,
                    contact_email="contact@demo.invalid",
                    kind=kind,
                    allowed_networks=networks,
                    actor="command:seed_demo",
                )
            else:
                pin = holder.issue_pin(actor="command:seed_demo")
            self.stdout.write(
                f"  {holder.get_kind_display():<24} {name:<16} gebruikersnummer {holder.user_number}  pincode {pin}"
            )
