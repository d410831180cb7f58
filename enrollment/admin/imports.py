"""The CSV import's pages: upload and check, confirm once, follow the progress, the template.

Upload and check write nothing but the record of a clean file (``HolderImport``); the admin
then sees which rows match existing holders and whether this file was imported before, and
confirms. The confirmation is claimed once (``HolderImport.confirm``), so a double click or
a second submit finds the import under way and says so. The import runs as a task; its page
refreshes itself until the letters can be printed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.queue import queue_after_commit
from enrollment import bulk
from enrollment.admin.common import admin_id, private
from enrollment.models import HolderImport, ImportState

# Rows listed on the check page; a file of 5,000 rows lists its problems and duplicates in
# full, and only the first rows of the rest.
ROWS_SHOWN = 200
# A confirmed import that no worker started after this (the broker was down when it was
# queued) is queued again when its page is looked at; the task's claim makes that safe.
REQUEUE_AFTER = timedelta(seconds=60)


def import_url(record: HolderImport) -> str:
    return reverse("admin:enrollment_holder_import_check", args=[record.pk])


class ImportViews(admin.ModelAdmin):
    """Mixed into the holders' admin: the CSV import under its URLs."""

    def import_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="enrollment_holder_import"),
            path(
                "import/template.csv",
                view(self.import_template_view),
                name="enrollment_holder_import_template",
            ),
            path(
                "import/<int:pk>/",
                view(self.import_check_view),
                name="enrollment_holder_import_check",
            ),
            path(
                "import/<int:pk>/confirm/",
                view(require_POST(self.import_confirm_view)),
                name="enrollment_holder_import_confirm",
            ),
        ]

    def _import_context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import certificate holders from CSV"),
            "columns": bulk.column_help(),
            "max_rows": bulk.MAX_ROWS,
            **extra,
        }

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload: a report of every problem, or (a clean file) on to its confirmation page."""
        if not self.has_add_permission(request):
            raise Http404
        context = self._import_context(request)
        if request.method == "POST":
            text, file_name = _uploaded(request)
            if text is None:
                context["problem"] = _(
                    "Choose a CSV file in UTF-8 of at most 2 MB (in Excel: “CSV UTF-8”)."
                )
            else:
                report, record = bulk.check(text, file_name=file_name, admin_id=admin_id(request))
                if record is not None:
                    return HttpResponseRedirect(import_url(record))
                context["report"] = report
                context["rows"] = [row for row in report.rows if row.errors]
        return TemplateResponse(request, "admin/enrollment/holder_import.html", context)

    def _record(self, request: HttpRequest, pk: int) -> HolderImport:
        record = HolderImport.objects.filter(pk=pk, admin_id=admin_id(request)).first()
        if record is None or not self.has_add_permission(request):
            raise Http404
        return record

    def import_check_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The clean file before confirmation, then its progress, then its result."""
        record = self._record(request, pk)
        if (
            record.state == ImportState.QUEUED
            and record.confirmed_at
            and timezone.now() - record.confirmed_at > REQUEUE_AFTER
        ):
            queue_after_commit("enrollment.import_holders", record.pk)
        duplicates = {entry["line"]: entry for entry in record.duplicates}
        rows = record.rows
        shown = [row for row in rows[:ROWS_SHOWN]] + [
            row for row in rows[ROWS_SHOWN:] if row["line"] in duplicates
        ]
        context = self._import_context(
            request,
            record=record,
            rows=[{**row, "duplicate": duplicates.get(row["line"])} for row in shown],
            rows_hidden=len(rows) - len(shown),
            earlier=list(record.earlier_imports().select_related("admin")[:5]),
            refresh=record.in_progress,
        )
        return private(
            TemplateResponse(request, "admin/enrollment/holder_import_check.html", context)
        )

    def import_confirm_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        record = self._record(request, pk)
        if record.state != ImportState.CHECKED:
            return self._confirmed_before(request, record)
        if record.earlier_imports().exists() and request.POST.get("import_again") != "1":
            self.message_user(
                request,
                _(
                    "This file was imported before. Tick “Import this file again” if you "
                    "really want to import it a second time."
                ),
                messages.ERROR,
            )
            return HttpResponseRedirect(import_url(record))
        include = request.POST.get("include_duplicates") == "1"
        if not record.confirm(include_duplicates=include, language=translation.get_language()):
            return self._confirmed_before(request, record)
        queue_after_commit("enrollment.import_holders", record.pk)
        return HttpResponseRedirect(import_url(record))

    def _confirmed_before(self, request: HttpRequest, record: HolderImport) -> HttpResponse:
        self.message_user(
            request,
            _("This import was confirmed already (%(state)s); nothing has been imported again.")
            % {"state": record.get_state_display()},
            messages.WARNING,
        )
        return HttpResponseRedirect(import_url(record))

    def import_template_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise Http404
        response = HttpResponse(bulk.template_csv(), content_type="text/csv; charset=utf-8")
        name = "certificaathouders.csv" if translation.get_language() == "nl" else "holders.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def _uploaded(request: HttpRequest) -> tuple[str | None, str]:
    # csv_text: the same check for scripts and tests that post the text itself.
    if "csv_text" in request.POST:
        text = request.POST["csv_text"]
        return (text if len(text.encode()) <= bulk.MAX_BYTES else None), ""
    upload = request.FILES.get("csv_file")
    if upload is None or (upload.size or 0) > bulk.MAX_BYTES:
        return None, ""
    return bulk.decode(upload.read()), upload.name or ""
