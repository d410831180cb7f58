from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from operations.backup import backup


class Command(BaseCommand):
    help = "Back up the database and the CA key files into a new folder (run in the worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="A folder that does not exist yet")

    def handle(self, *args: Any, **options: Any) -> None:
        manifest = backup(options["folder"])
        self.stdout.write(f"backed up {len(manifest['files'])} file(s) to {options['folder']}")
