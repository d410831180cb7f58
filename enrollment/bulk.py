"""Importing holders from CSV: a report first, then (once confirmed) all rows or none.

``read`` checks a file as the import would and writes nothing; the admin's upload of a clean
file is kept as a ``HolderImport`` (``check``), with the rows that match existing holders,
so the admin is asked about those before they are imported, and a file that was imported
before is recognised. Column names may be Dutch or English; each problem is reported once,
in the admin's language, under the column name the file uses. ``run_import`` (a Celery task:
5,000 memory-hard PIN hashes take longer than a request may) prepares the PINs outside the
transaction, counting its progress, then makes every holder in one transaction.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from audit.models import AuditEntry, AuditEvent
from core.plain_text import PlainTextValidator, first_forbidden, normalise
from enrollment.csv_columns import BY_NAME, COLUMNS, column_help, template_csv
from enrollment.managers.holders import holder_key
from enrollment.models import (
    Holder,
    HolderImport,
    HolderKind,
    ImportState,
    Organisation,
    PinHandover,
    new_pin,
)
from enrollment.outbox import store_pin_mails

MAX_ROWS = 5000
# How often a running import reports the holders it has saved.
SAVED_EVERY = 50
MAX_BYTES = 2 * 1024 * 1024
_KINDS = {
    "personal": "personal",
    "persoonlijk": "personal",
    "system": "system",
    "systeem": "system",
}
_DELIVERIES = {
    "letter": "letter",
    "brief": "letter",
    "post": "letter",
    "messagebox": "messagebox",
    "berichtenbox": "messagebox",
}
_YES = {"yes", "ja", "y", "j", "1", "true", "waar", "x"}
_NO = {"no", "nee", "n", "0", "false", "onwaar", ""}
# The column of each model field, so that a row's problem names what to correct.
_FIELD_COLUMNS = {
    "display_name": "name",
    "contact_email": "contact_email",
    "kind": "kind",
    "allowed_networks": "allowed_ips",
    "pin_delivery": "pin_delivery",
    "messagebox_address": "messagebox_address",
    "is_contact_person": "contact_person",
}
_ORGANISATION_COLUMNS = {
    "name": "organisation",
    "agb_code": "agb_code",
    "postal_address": "postal_address",
    "postal_code": "postal_code",
    "city": "city",
}


@dataclass
class ImportRow:
    line: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[ImportRow]
    errors: list[str]
    # The column names as the file writes them (English key → header).
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and all(not row.errors for row in self.rows)

    @property
    def rows_with_errors(self) -> int:
        return sum(1 for row in self.rows if row.errors)


class RowRefused(Exception):
    """A row failed while importing (after a clean report); nothing was imported."""

    def __init__(self, line: int, problems: list[str]) -> None:
        super().__init__(f"line {line}: {'; '.join(problems)}")
        self.line = line
        self.problems = problems


def decode(data: bytes) -> str | None:
    """The file's text (UTF-8, with or without BOM), or None if it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def file_digest(text: str) -> str:
    """The same file uploaded again has the same digest, whatever its line endings."""
    canonical = "\n".join(line.rstrip() for line in text.lstrip("\ufeff").splitlines()).strip()
    return hashlib.sha256(canonical.encode()).hexdigest()


def _header_key(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", "_").split())


def read(text: str) -> ImportReport:
    """Check every row as the import would, writing nothing; messages in the active language."""
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    header = next(reader, [])
    headers: dict[str, str] = {}
    unknown = []
    for name in header:
        column = BY_NAME.get(_header_key(name))
        if column is None:
            if name.strip():
                unknown.append(name.strip())
        else:
            headers.setdefault(column.key, name.strip())
    errors = []
    missing = [column.dutch for column in COLUMNS if column.required and column.key not in headers]
    if missing:
        errors.append(_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
    if unknown:
        errors.append(
            _("Unknown columns: %(columns)s. Download the template for the column names.")
            % {"columns": ", ".join(unknown)}
        )
    if errors:
        return ImportReport([], errors, headers)
    keys = [
        BY_NAME[_header_key(name)].key if _header_key(name) in BY_NAME else "" for name in header
    ]
    records: list[tuple[int, dict[str, str]]] = []
    # The line a record starts on: a quoted value may span lines, so records and lines
    # are not counted alike (reader.line_num is the line a record ends on).
    line = reader.line_num + 1
    for raw in reader:
        if not any(cell.strip() for cell in raw):
            line = reader.line_num + 1
            continue
        if len(records) >= MAX_ROWS:
            errors.append(
                _("The file has more than %(max)s rows: split it into smaller files.")
                % {"max": MAX_ROWS}
            )
            return ImportReport([], errors, headers)
        values = {key: cell.strip() for key, cell in zip(keys, raw, strict=False) if key}
        records.append((line, values))
        line = reader.line_num + 1
    if not records:
        return ImportReport([], [_("The file has no rows below its column names.")], headers)
    names = {normalise(values.get("organisation", "")) for _line, values in records}
    # Names the field refuses (a NUL, which PostgreSQL cannot even compare) are no one's.
    known = [name for name in names if name and first_forbidden(name) is None]
    existing = Organisation.objects.in_bulk(known, field_name="name")
    rows = [_check(ImportRow(line, values), headers, existing) for line, values in records]
    return ImportReport(rows, [], headers)


def _delimiter(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return ";" if first.count(";") > first.count(",") else ","


def _networks(values: dict[str, str]) -> str:
    return "\n".join(ip.strip() for ip in values.get("allowed_ips", "").split(";") if ip.strip())


def _label(headers: dict[str, str], key: str) -> str:
    """The column's name as the file writes it, else as the admin's language writes it."""
    if key in headers:
        return headers[key]
    column = next(column for column in COLUMNS if column.key == key)
    return column.dutch if translation.get_language() == "nl" else column.key


def _problems(exc: ValidationError, columns: dict[str, str], headers: dict[str, str]) -> list[str]:
    problems = []
    for key, errors in exc.error_dict.items():
        column = _label(headers, columns[key]) if key in columns else key
        for error in errors:
            if error.code == PlainTextValidator.code:
                # It names its field itself: the CSV column, not the form's label.
                problems.append(str(error.message) % {**(error.params or {}), "field": column})
            elif key == NON_FIELD_ERRORS:
                problems.extend(error.messages)
            else:
                problems.append(f"{column}: {' '.join(error.messages)}")
    return problems


def _choice(values: dict[str, str], key: str, choices: dict[str, str], default: str) -> str | None:
    raw = values.get(key, "").strip().lower()
    return choices.get(raw) if raw else default


def _holder_values(values: dict[str, str]) -> dict[str, Any]:
    """The model's values of a row whose choices are valid."""
    return {
        "display_name": values.get("name", ""),
        "contact_email": values.get("contact_email", ""),
        "kind": _choice(values, "kind", _KINDS, HolderKind.PERSONAL),
        "allowed_networks": _networks(values),
        "pin_delivery": _choice(values, "pin_delivery", _DELIVERIES, "letter"),
        "messagebox_address": values.get("messagebox_address", ""),
        "is_contact_person": values.get("contact_person", "").strip().lower() in _YES,
    }


def _check(row: ImportRow, headers: dict[str, str], existing: dict[str, Organisation]) -> ImportRow:
    values = row.values
    holder_values = _holder_values(values)
    exclude = ["user_number", "organisation"]
    if holder_values["kind"] is None:
        row.errors.append(
            _("%(column)s: write personal or system (persoonlijk or systeem), not “%(value)s”.")
            % {"column": _label(headers, "kind"), "value": values["kind"]}
        )
        holder_values["kind"] = (
            HolderKind.SYSTEM if holder_values["allowed_networks"] else "personal"
        )
        exclude.append("kind")
    if holder_values["pin_delivery"] is None:
        row.errors.append(
            _("%(column)s: write letter or messagebox (brief or berichtenbox), not “%(value)s”.")
            % {"column": _label(headers, "pin_delivery"), "value": values["pin_delivery"]}
        )
        holder_values["pin_delivery"] = "letter"
        exclude.append("pin_delivery")
    if values.get("contact_person", "").strip().lower() not in _YES | _NO:
        row.errors.append(
            _("%(column)s: write yes or no (ja or nee), not “%(value)s”.")
            % {"column": _label(headers, "contact_person"), "value": values["contact_person"]}
        )
    name = normalise(values.get("organisation", ""))
    organisation = existing.get(name) or Organisation(
        name=name,
        agb_code=values.get("agb_code", ""),
        postal_address=values.get("postal_address", ""),
        postal_code=values.get("postal_code", ""),
        city=values.get("city", ""),
    )
    holder = Holder(organisation=organisation, **holder_values)
    try:
        holder.full_clean(exclude=exclude)
    except ValidationError as exc:
        row.errors.extend(_problems(exc, _FIELD_COLUMNS, headers))
    organisation_ok = True
    if organisation.pk is None and name not in existing:
        try:
            # The same rule as Organisation.objects.find_or_create; an empty name is
            # reported once, here.
            organisation.full_clean(validate_unique=False)
        except ValidationError as exc:
            row.errors.extend(_problems(exc, _ORGANISATION_COLUMNS, headers))
            organisation_ok = False
        else:
            # Made by this row: the rows after it find it (and its address) as the import will.
            existing[name] = organisation
    if (
        holder.pin_delivery == "letter"
        and organisation_ok
        and name
        and not organisation.has_postal_address
    ):
        row.errors.append(
            _(
                "%(organisation)s has no postal address for the PIN letter: add it under "
                "Organisations (or in the columns %(columns)s), or deliver the PIN to a "
                "message box."
            )
            % {
                "organisation": name,
                "columns": ", ".join(
                    _label(headers, key) for key in ("postal_address", "postal_code", "city")
                ),
            }
        )
    return row


def duplicates(report: ImportReport) -> list[dict[str, Any]]:
    """Rows that match an existing holder, or an earlier row of the file, by name,
    organisation and kind: the admin is asked before they are imported."""
    keys = {
        row.line: holder_key(
            row.values.get("name", ""),
            row.values.get("organisation", ""),
            _choice(row.values, "kind", _KINDS, HolderKind.PERSONAL) or "",
        )
        for row in report.rows
    }
    found = Holder.objects.get_queryset().same_as(keys.values())
    seen: dict[tuple[str, str, str], int] = {}
    result = []
    for line, key in keys.items():
        holder = found.get(key)
        if holder is not None:
            result.append(
                {
                    "line": line,
                    "user_number": holder.user_number,
                    "holder_id": holder.pk,
                    "earlier_line": None,
                }
            )
        elif key in seen:
            result.append(
                {"line": line, "user_number": "", "holder_id": None, "earlier_line": seen[key]}
            )
        seen.setdefault(key, line)
    return result


def check(text: str, *, file_name: str, admin_id: int) -> tuple[ImportReport, HolderImport | None]:
    """The report; for a clean file also the import waiting for the admin's confirmation."""
    report = read(text)
    if not report.ok:
        return report, None
    record = HolderImport.objects.create(
        admin_id=admin_id,
        file_name=file_name[:200],
        file_sha256=file_digest(text),
        rows=[{"line": row.line, "values": row.values} for row in report.rows],
        duplicates=duplicates(report),
        total=len(report.rows),
    )
    return report, record


def run_import(import_id: int) -> None:
    """The worker's part: prepare the PINs (slow, counted), then make all holders at once."""
    record = HolderImport.objects.select_related("admin").get(pk=import_id)
    if not record.claim():
        return  # done, failed, or another worker has it
    actor = f"admin:{record.admin.get_username()}"
    rows = record.rows_to_import()
    with translation.override(record.language):
        pins = []
        for number, _row in enumerate(rows, start=1):
            pins.append(new_pin())
            if number % 20 == 0:
                record.count_prepared(number)
        record.count_prepared(len(rows))
        try:
            with transaction.atomic():
                issued = import_holders(rows, pins, actor=actor, on_saved=record.count_saved)
                handover = PinHandover.objects.for_import(
                    admin_id=record.admin_id, import_id=record.pk
                )
                handover.keep(issued, letters_only=True)
                AuditEntry.objects.record(
                    AuditEvent.HOLDERS_IMPORTED,
                    record,
                    actor=actor,
                    details={
                        "file": record.file_name,
                        "sha256": record.file_sha256,
                        "holders": len(issued),
                        "skipped_duplicates": len(record.rows) - len(rows),
                    },
                )
                record.finish(handover)
        except RowRefused as refused:
            record.fail(
                _("Line %(line)s: %(problems)s Nothing has been imported.")
                % {"line": refused.line, "problems": " ".join(refused.problems)}
            )


@transaction.atomic
def import_holders(
    checked: ImportReport | list[dict[str, Any]],
    pins: list[tuple[str, str]] | None = None,
    *,
    actor: str = "import",
    on_saved: Callable[[int], None] | None = None,
) -> list[tuple[Holder, str]]:
    """Create every holder of these checked rows (or of a clean report), or none of them.

    The holders, their PINs, their mails (the message-box PINs' too) and the audit entries
    are one transaction (the caller's, if it has one); a row that fails now (the database
    changed since the check) raises RowRefused, naming it, and undoes all. ``pins`` are
    prepared with ``new_pin``, one per row, or made here. ``on_saved`` hears how many
    holders are saved, every ``SAVED_EVERY`` rows (the progress page of a running import).
    """
    headers: dict[str, str] = {}
    if isinstance(checked, ImportReport):
        if not checked.ok:
            raise ValueError("the report has errors")
        headers = checked.headers
        rows: list[dict[str, Any]] = [
            {"line": row.line, "values": row.values} for row in checked.rows
        ]
    else:
        rows = checked
    issued = []
    for row, prepared in zip(rows, pins or [new_pin() for _row in rows], strict=True):
        values: dict[str, str] = row["values"]
        line: int = row["line"]
        try:
            organisation = Organisation.objects.find_or_create(
                values["organisation"],
                values.get("agb_code", ""),
                postal_address=values.get("postal_address", ""),
                postal_code=values.get("postal_code", ""),
                city=values.get("city", ""),
            )
        except ValidationError as exc:
            raise RowRefused(line, _problems(exc, _ORGANISATION_COLUMNS, headers)) from None
        try:
            holder, pin = Holder.objects.issue(
                organisation=organisation,
                actor=actor,
                prepared_pin=prepared,
                **_holder_values(values),
            )
            store_pin_mails([(holder, pin)])
        except ValidationError as exc:
            raise RowRefused(line, _problems(exc, _FIELD_COLUMNS, headers)) from None
        issued.append((holder, pin))
        if on_saved is not None and len(issued) % SAVED_EVERY == 0:
            on_saved(len(issued))
    if on_saved is not None:
        on_saved(len(issued))
    return issued


__all__ = [
    "COLUMNS",
    "ImportReport",
    "ImportRow",
    "ImportState",
    "RowRefused",
    "check",
    "column_help",
    "read",
    "run_import",
    "template_csv",
]
