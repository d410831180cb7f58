"""Importing holders from CSV: a validation report first, then all rows or none."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from enrollment.models import Holder, HolderKind, Organisation

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
    for line, raw in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            return ImportReport(rows, [f"more than {MAX_ROWS} rows: split the file"])
        values = {key.strip(): (value or "").strip() for key, value in raw.items() if key}
        rows.append(_check(ImportRow(line, values)))
    if not rows:
        errors.append("the file has no rows")
    return ImportReport(rows, errors)


def _delimiter(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return ";" if first.count(";") > first.count(",") else ","


def _check(row: ImportRow) -> ImportRow:
    values = row.values
    for name in REQUIRED:
        if not values.get(name):
            row.errors.append(f"{name} is empty")
    kind = values.get("kind") or HolderKind.PERSONAL
    if kind not in HolderKind.values:
        row.errors.append(f"kind must be personal or system, not {kind!r}")
    holder = Holder(
        display_name=values.get("name", ""),
        contact_email=values.get("contact_email", ""),
        kind=kind,
        allowed_networks="\n".join(
            ip.strip() for ip in values.get("allowed_ips", "").split(";") if ip.strip()
        ),
        pin_delivery=values.get("pin_delivery") or "letter",
        messagebox_address=values.get("messagebox_address", ""),
        organisation=Organisation(
            name=values.get("organisation", "x"), agb_code=values.get("agb_code", "")
        ),
    )
    try:
        holder.full_clean(exclude=["user_number", "organisation"])
        holder.organisation.full_clean(exclude=["name"])
    except ValidationError as exc:
        row.errors.extend(
            f"{key}: {' '.join(messages)}" for key, messages in exc.message_dict.items()
        )
    return row


@transaction.atomic
def import_holders(report: ImportReport) -> list[tuple[Holder, str]]:
    """Create every holder of a clean report, or (on any error) none of them."""
    if not report.ok:
        raise ValueError("the report has errors")
    issued = []
    for row in report.rows:
        values = row.values
        organisation, _created = Organisation.objects.get_or_create(
            name=values["organisation"], defaults={"agb_code": values.get("agb_code", "")}
        )
        issued.append(
            Holder.objects.issue(
                display_name=values["name"],
                organisation=organisation,
                contact_email=values["contact_email"],
                kind=values.get("kind") or HolderKind.PERSONAL,
                allowed_networks="\n".join(
                    ip.strip() for ip in values.get("allowed_ips", "").split(";") if ip.strip()
                ),
                pin_delivery=values.get("pin_delivery") or "letter",
                messagebox_address=values.get("messagebox_address", ""),
            )
        )
    return issued
