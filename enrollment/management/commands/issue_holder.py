"""Create a holder with a user number and PIN: the same operation as the admin's "add holder"."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from enrollment.models import Holder, HolderKind, Organisation


class Command(BaseCommand):
    help = "Create a holder; prints the user number and the PIN (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help='Display name, e.g. "A. Janssen"')
        parser.add_argument(
            "--organisation", required=True, help="Organisation name (created if new)"
        )
        parser.add_argument("--contact-email", required=True)
        parser.add_argument("--kind", choices=[k.value for k in HolderKind], default="personal")
        parser.add_argument(
            "--allowed-ip",
            action="append",
            default=[],
            metavar="CIDR",
            help="System holders: an allowed IP address or range; repeat for more.",
        )
        parser.add_argument("--agb-code", default="", help="The organisation's AGB code, if new")
        parser.add_argument("--json", action="store_true", help="Print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation, _created = Organisation.objects.get_or_create(
            name=options["organisation"], defaults={"agb_code": options["agb_code"]}
        )
        try:
            holder, pin = Holder.objects.issue(
                display_name=options["name"],
                organisation=organisation,
                contact_email=options["contact_email"],
                kind=options["kind"],
                allowed_networks="\n".join(options["allowed_ip"]),
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()
            )
            raise CommandError(problems) from None
        if options["json"]:
            self.stdout.write(json.dumps({"user_number": holder.user_number, "pin": pin}))
        else:
            self.stdout.write(f"{holder.display_name}: user number {holder.user_number}, PIN {pin}")
