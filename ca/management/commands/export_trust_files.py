"""Write nginx's client-CA bundle and CRL bundle into a folder (then reload nginx)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ca.crl import trust_files


class Command(BaseCommand):
    help = "Write client-ca.pem and crl.pem for nginx's ssl_client_certificate and ssl_crl."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        folder: Path = options["folder"]
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in trust_files().items():
            # Write then rename, so nginx never reads half a file.
            partial = folder / f".{name}.new"
            partial.write_bytes(content)
            partial.replace(folder / name)
        self.stdout.write(f"wrote client-ca.pem and crl.pem to {folder}")
