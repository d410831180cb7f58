"""Create a holder with a user number and PIN: the same operation as the admin's "add holder"."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

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
        try:
            # One transaction for the organisation (if new), the holder, its PIN, its mail
            # and the audit entry: a refused value leaves nothing behind. The mail is sent
            # after the commit (enrollment.outbox), so a mail failure cannot hide the PIN.
            with transaction.atomic():
                try:
                    organisation = Organisation.objects.find_or_create(
                        options["organisation"], options["agb_code"]
                    )
                except ValidationError as exc:
                    raise CommandError(_problems(exc, {"name": "organisation"})) from None
                holder, pin = Holder.objects.issue(
                    display_name=options["name"],
                    organisation=organisation,
                    contact_email=options["contact_email"],
                    kind=options["kind"],
                    allowed_networks="\n".join(options["allowed_ip"]),
                    actor="command:issue_holder",
                )
        except ValidationError as exc:
            raise CommandError(_problems(exc, {"display_name": "name"})) from None
        if options["json"]:
            self.stdout.write(json.dumps({"user_number": holder.user_number, "pin": pin}))
        else:
            self.stdout.write(f"{holder.display_name}: user number {holder.user_number}, PIN {pin}")


def _problems(exc: ValidationError, options: dict[str, str]) -> str:
    """``field: message`` per field, fields named as the command's options name them."""
    return "; ".join(
        " ".join(messages)
        if field == NON_FIELD_ERRORS
        else f"{options.get(field, field)}: {' '.join(messages)}"
        for field, messages in exc.message_dict.items()
    )
