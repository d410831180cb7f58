"""CSV imports of holders: a checked file waits for the admin's confirmation, then imports.

The check (``enrollment.bulk.read``) writes nothing but this record of a clean file: its
rows, which of them match holders that exist already, and the SHA-256 of the file, by which
a file that was imported before is recognised when it is uploaded again. Confirming is a
conditional UPDATE from *checked* to *queued*, so a second confirmation (a double click, a
reload, a second tab) finds the import under way and starts nothing. A worker then imports
every row or none (``enrollment.bulk.run_import``), counting its progress here for the
admin's progress page; the PINs go to the import's handover, for the letters.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.choices import ImportState
from enrollment.models.handovers import PinHandover

_SAVED_KEY = "enrollment:import-saved:{pk}"

# A running import whose worker died (its all-or-nothing transaction rolled back) may be
# taken over after this; the longest import (5,000 rows) takes a few minutes.
IMPORT_LEASE = timedelta(minutes=30)


class HolderImport(models.Model):
    admin = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("administrator"),
    )
    file_name = models.CharField(_("file"), max_length=200, blank=True)
    file_sha256 = models.CharField(max_length=64, db_index=True, editable=False)
    # [{"line": n, "values": {column: value}}], columns by their English names.
    rows = models.JSONField(default=list, editable=False)
    # Lines that match an existing holder or an earlier line: {"line": n, "match": text}.
    duplicates = models.JSONField(default=list, editable=False)
    include_duplicates = models.BooleanField(
        _("rows matching existing holders imported"), default=False
    )
    state = models.CharField(
        _("state"), max_length=10, choices=ImportState.choices, default=ImportState.CHECKED
    )
    total = models.PositiveIntegerField(_("rows"), default=0)
    prepared = models.PositiveIntegerField(_("rows prepared"), default=0)
    error = models.TextField(_("problem"), blank=True)
    # The language of the admin who confirmed it, for what the worker writes in ``error``.
    language = models.CharField(max_length=8, default="nl", editable=False)
    handover = models.OneToOneField(
        PinHandover, on_delete=models.SET_NULL, null=True, blank=True, related_name="holder_import"
    )
    created_at = models.DateTimeField(_("checked"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("CSV import")
        verbose_name_plural = _("CSV imports")

    def __str__(self) -> str:
        return f"{self.file_name or self.pk} ({self.get_state_display()})"

    @property
    def duplicate_lines(self) -> set[int]:
        return {entry["line"] for entry in self.duplicates}

    def rows_to_import(self) -> list[dict[str, Any]]:
        if self.include_duplicates:
            return list(self.rows)
        skipped = self.duplicate_lines
        return [row for row in self.rows if row["line"] not in skipped]

    def earlier_imports(self) -> models.QuerySet[HolderImport]:
        """Imports of the same file that were confirmed before this one was checked."""
        return (
            HolderImport.objects.filter(file_sha256=self.file_sha256, confirmed_at__isnull=False)
            .exclude(pk=self.pk)
            .exclude(state=ImportState.FAILED)
            .order_by("-confirmed_at")
        )

    def confirm(self, *, include_duplicates: bool, language: str) -> bool:
        """Checked → queued, once; False if it was confirmed before (nothing starts again)."""
        total = len(self.rows if include_duplicates else self.rows_to_import())
        now = timezone.now()
        confirmed = HolderImport.objects.filter(pk=self.pk, state=ImportState.CHECKED).update(
            state=ImportState.QUEUED,
            include_duplicates=include_duplicates,
            confirmed_at=now,
            language=language,
            total=total,
        )
        self.refresh_from_db()
        return bool(confirmed)

    def claim(self) -> bool:
        """Queued → running for one worker (or a running one whose worker died)."""
        now = timezone.now()
        stale = Q(state=ImportState.RUNNING, started_at__lt=now - IMPORT_LEASE)
        claimed = (
            HolderImport.objects.filter(pk=self.pk)
            .filter(Q(state=ImportState.QUEUED) | stale)
            .update(state=ImportState.RUNNING, started_at=now, prepared=0)
        )
        self.refresh_from_db()
        return bool(claimed)

    def count_prepared(self, prepared: int) -> None:
        # Outside the import's transaction, so that the progress page sees it at once.
        HolderImport.objects.filter(pk=self.pk, state=ImportState.RUNNING).update(prepared=prepared)

    def count_saved(self, saved: int) -> None:
        # The holders are saved in one transaction (all or none), so no row of this
        # import's own can show how far it is: the shared cache can, at once.
        cache.set(_SAVED_KEY.format(pk=self.pk), saved, timeout=int(IMPORT_LEASE.total_seconds()))

    @property
    def saved(self) -> int:
        """Holders saved so far by the running import (0 before the saving starts)."""
        if self.state == ImportState.DONE:
            return self.total
        return int(cache.get(_SAVED_KEY.format(pk=self.pk), 0))

    def finish(self, handover: PinHandover) -> None:
        """Running → done, in the import's transaction (with the holders it made)."""
        HolderImport.objects.filter(pk=self.pk).update(
            state=ImportState.DONE,
            handover=handover,
            prepared=self.total,
            finished_at=timezone.now(),
        )
        self.refresh_from_db()

    def fail(self, error: str) -> None:
        HolderImport.objects.filter(pk=self.pk).update(
            state=ImportState.FAILED, error=error[:4000], finished_at=timezone.now()
        )
        self.refresh_from_db()

    @property
    def percent(self) -> int:
        """Preparing the PINs is the first half of the work, saving the holders the second."""
        if self.state == ImportState.DONE:
            return 100
        if not self.total:
            return 0
        return int(50 * (self.prepared + self.saved) / self.total)

    @property
    def in_progress(self) -> bool:
        return self.state in (ImportState.QUEUED, ImportState.RUNNING)
