"""Importing holders from CSV: a validation report first, then all rows or none."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from core.plain_text import PlainTextValidator
from enrollment.models import Holder, HolderKind, Organisation
from enrollment.outbox import store_pin_mails

COLUMNS = [
    "name",
    "organisation",
    "contact_email",
    "kind",
    "allowed_ips",
    "agb_code",
    "pin_delivery",
    "messagebox_address",
]
REQUIRED = ["name", "organisation", "contact_email"]
MAX_ROWS = 5000
# The CSV column that holds each model field, so that a row's error names what to correct.
_HOLDER_COLUMNS = {"display_name": "name", "allowed_networks": "allowed_ips"}
_ORGANISATION_COLUMNS = {"name": "organisation"}


@dataclass
class ImportRow:
    line: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[ImportRow]
    errors: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors and all(not row.errors for row in self.rows)


class RowRefused(Exception):
    """A row failed while importing (after a clean report); nothing was imported."""

    def __init__(self, row: ImportRow, problems: list[str]) -> None:
        super().__init__(f"line {row.line}: {'; '.join(problems)}")
        self.line = row.line
        self.problems = problems


def read(text: str) -> ImportReport:
    """Check every row as the import would, writing nothing."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=_delimiter(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    errors = []
    if missing:
        errors.append(f"missing columns: {', '.join(missing)}")
    if unknown:
        errors.append(f"unknown columns: {', '.join(unknown)} (allowed: {', '.join(COLUMNS)})")
    if errors:
        return ImportReport([], errors)
    rows: list[ImportRow] = []
    # The line a record starts on: a quoted value may span lines, so records and lines
    # are not counted alike (reader.line_num is the line a record ends on).
    line = reader.line_num + 1
    for raw in reader:
        if len(rows) >= MAX_ROWS:
            return ImportReport(rows, [f"more than {MAX_ROWS} rows: split the file"])
        values = {key.strip(): (value or "").strip() for key, value in raw.items() if key}
        rows.append(_check(ImportRow(line, values)))
        line = reader.line_num + 1
    if not rows:
        errors.append("the file has no rows")
    return ImportReport(rows, errors)


def _delimiter(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return ";" if first.count(";") > first.count(",") else ","


def _networks(values: dict[str, str]) -> str:
    return "\n".join(ip.strip() for ip in values.get("allowed_ips", "").split(";") if ip.strip())


def _problems(exc: ValidationError, columns: dict[str, str]) -> list[str]:
    problems = []
    for key, errors in exc.error_dict.items():
        column = columns.get(key, key)
        for error in errors:
            if error.code == PlainTextValidator.code:
                # It names its field itself: the CSV column, not the form's label.
                problems.append(str(error.message) % {**(error.params or {}), "field": column})
            elif key == NON_FIELD_ERRORS:
                problems.extend(error.messages)
            else:
                problems.append(f"{column}: {' '.join(error.messages)}")
    return problems


def _check(row: ImportRow) -> ImportRow:
    values = row.values
    for name in REQUIRED:
        if not values.get(name):
            row.errors.append(f"{name} is empty")
    kind = values.get("kind") or HolderKind.PERSONAL
    if kind not in HolderKind.values:
        row.errors.append(f"kind must be personal or system, not {kind!r}")
    organisation = Organisation(
        name=values.get("organisation", ""), agb_code=values.get("agb_code", "")
    )
    holder = Holder(
        display_name=values.get("name", ""),
        contact_email=values.get("contact_email", ""),
        kind=kind,
        allowed_networks=_networks(values),
        pin_delivery=values.get("pin_delivery") or "letter",
        messagebox_address=values.get("messagebox_address", ""),
        organisation=organisation,
    )
    try:
        holder.full_clean(exclude=["user_number", "organisation"])
    except ValidationError as exc:
        row.errors.extend(_problems(exc, _HOLDER_COLUMNS))
    try:
        # The same rule as Organisation.objects.find_or_create; the name may exist already,
        # and an empty one is reported above.
        organisation.full_clean(
            exclude=[] if organisation.name else ["name"], validate_unique=False
        )
    except ValidationError as exc:
        row.errors.extend(_problems(exc, _ORGANISATION_COLUMNS))
    return row


@transaction.atomic
def import_holders(report: ImportReport, *, actor: str = "import") -> list[tuple[Holder, str]]:
    """Create every holder of a clean report, or (on any error) none of them.

    The holders, their PINs, their mails (the message-box PINs' too) and the audit entries
    are one transaction; a row that fails now raises RowRefused, naming it, and undoes all.
    """
    if not report.ok:
        raise ValueError("the report has errors")
    issued = []
    for row in report.rows:
        values = row.values
        try:
            organisation = Organisation.objects.find_or_create(
                values["organisation"], values.get("agb_code", "")
            )
        except ValidationError as exc:
            raise RowRefused(row, _problems(exc, _ORGANISATION_COLUMNS)) from None
        try:
            holder, pin = Holder.objects.issue(
                display_name=values["name"],
                organisation=organisation,
                contact_email=values["contact_email"],
                kind=values.get("kind") or HolderKind.PERSONAL,
                allowed_networks=_networks(values),
                pin_delivery=values.get("pin_delivery") or "letter",
                messagebox_address=values.get("messagebox_address", ""),
                actor=actor,
            )
            store_pin_mails([(holder, pin)])
        except ValidationError as exc:
            raise RowRefused(row, _problems(exc, _HOLDER_COLUMNS)) from None
        issued.append((holder, pin))
    return issued
