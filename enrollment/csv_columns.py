"""The columns of the holders' CSV import: Dutch and English names, and the template.

``enrollment.bulk`` reads files by these names (either language, a few aliases, any case);
the import page lists them, and the template (``template_csv``) writes them in the admin's
language, every cell through ``core.escaping.csv_cell``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy

from core.escaping import csv_cell


@dataclass(frozen=True)
class Column:
    key: str  # the English name, also the key of a row's values
    dutch: str
    description: Any  # lazily translated
    required: bool = False


COLUMNS = [
    Column("name", "naam", gettext_lazy("name as it should appear, e.g. A. Janssen"), True),
    Column("organisation", "organisatie", gettext_lazy("the organisation's name"), True),
    Column("contact_email", "email_contactpersoon", gettext_lazy("receives the user number"), True),
    Column("kind", "soort", gettext_lazy("personal or system (persoonlijk or systeem)")),
    Column("allowed_ips", "toegestane_ips", gettext_lazy("system only; separated by semicolons")),
    Column("agb_code", "agb_code", gettext_lazy("8 digits, for a new organisation")),
    Column(
        "pin_delivery",
        "pincode_bezorging",
        gettext_lazy("letter or messagebox (brief or berichtenbox)"),
    ),
    Column("messagebox_address", "berichtenbox_adres", gettext_lazy("for messagebox delivery")),
    Column("contact_person", "contactpersoon", gettext_lazy("yes or no (ja or nee)")),
    Column("postal_address", "postadres", gettext_lazy("for a new organisation: street or PO box")),
    Column("postal_code", "postcode", gettext_lazy("for a new organisation")),
    Column("city", "plaats", gettext_lazy("for a new organisation")),
]
BY_NAME = {name: column for column in COLUMNS for name in (column.key, column.dutch)}
BY_NAME.update(
    {
        "organization": BY_NAME["organisation"],
        "email": BY_NAME["contact_email"],
        "e_mail_contactpersoon": BY_NAME["contact_email"],
        "naam_gebruiker": BY_NAME["name"],
    }
)


def template_csv() -> str:
    """The downloadable template: the column names in the admin's language and one example."""
    dutch = translation.get_language() == "nl"
    example = {
        "name": "A. Janssen",
        "organisation": "Zorggroep Voorbeeld",
        "contact_email": "contactpersoon@zorggroep.example",
        "kind": "persoonlijk" if dutch else "personal",
        "allowed_ips": "",
        "agb_code": "12345678",
        "pin_delivery": "brief" if dutch else "letter",
        "messagebox_address": "",
        "contact_person": "nee" if dutch else "no",
        "postal_address": "Postbus 1234",
        "postal_code": "1000 AB",
        "city": "Amsterdam",
    }
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if dutch else ",", lineterminator="\r\n")
    writer.writerow([csv_cell(column.dutch if dutch else column.key) for column in COLUMNS])
    writer.writerow([csv_cell(example[column.key]) for column in COLUMNS])
    return out.getvalue()


def column_help() -> list[dict[str, Any]]:
    """The columns for the import page: Dutch and English names, what goes in, required."""
    return [
        {
            "dutch": column.dutch,
            "english": column.key,
            "description": capfirst(str(column.description)),
            "required": column.required,
        }
        for column in COLUMNS
    ]
