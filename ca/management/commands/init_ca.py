"""Create the CA hierarchy if it is missing; ``--rollover`` adds a new issuing CA."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ca.authority import HierarchyOptions, init_hierarchy
from ca.keys import KEY_TYPES, KeysUnavailable


class Command(BaseCommand):
    help = "Create the root and issuing CA if absent (idempotent, never overwrites)."

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = HierarchyOptions.from_settings()
        parser.add_argument("--rollover", action="store_true", help="Create a new issuing CA.")
        parser.add_argument("--root-key-type", choices=KEY_TYPES, default=defaults.root_key_type)
        parser.add_argument(
            "--issuing-key-type", choices=KEY_TYPES, default=defaults.issuing_key_type
        )
        parser.add_argument("--root-days", type=int, default=defaults.root_days)
        parser.add_argument("--issuing-days", type=int, default=defaults.issuing_days)

    def handle(self, *args: Any, **options: Any) -> None:
        hierarchy = HierarchyOptions(
            root_key_type=options["root_key_type"],
            issuing_key_type=options["issuing_key_type"],
            root_days=options["root_days"],
            issuing_days=options["issuing_days"],
        )
        if (
            not 365 <= hierarchy.root_days <= 30 * 365
            or not 30 <= hierarchy.issuing_days <= 20 * 365
        ):
            raise CommandError(
                "root validity must be 1-30 years, issuing CA validity 30 days-20 years"
            )
        try:
            messages = init_hierarchy(hierarchy, rollover=options["rollover"])
        except KeysUnavailable as exc:
            raise CommandError(str(exc)) from None
        for message in messages or ["The CA hierarchy exists already; nothing to do."]:
            self.stdout.write(message)
