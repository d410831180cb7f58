"""Check the audit log's hash chain: exit 1 when a row was removed, altered or inserted."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEntry


class Command(BaseCommand):
    help = "Verify the CA audit log's hash chain."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = AuditEntry.objects.verify()
        if problems:
            raise CommandError("The audit log was tampered with:\n" + "\n".join(problems))
        self.stdout.write(f"The audit log is intact ({AuditEntry.objects.count()} entries).")
