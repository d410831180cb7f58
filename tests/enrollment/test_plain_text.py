"""Free text refuses control and separator characters on every way in, and is kept in NFC."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.core.validators import RegexValidator
from django.test import Client
from django.utils import translation

from enrollment import bulk
from enrollment.models import (
    CERTIFICATE_NAME_PATTERN,
    Holder,
    Organisation,
    PolicyDocument,
)
from tests.enrollment import admin_pages
from tests.enrollment.factories import make_organisation

pytestmark = pytest.mark.django_db

# Each class of character that must not get into a name, with how messages name it.
FORBIDDEN = {
    "\x00": "U+0000 (NULL)",
    "\t": "U+0009 (CHARACTER TABULATION)",
    "\n": "U+000A (LINE FEED)",
    "\r": "U+000D (CARRIAGE RETURN)",
    "\x85": "U+0085 (NEXT LINE)",
    "\u2028": "U+2028 (LINE SEPARATOR)",
    "\u2029": "U+2029 (PARAGRAPH SEPARATOR)",
    "\u202e": "U+202E (RIGHT-TO-LEFT OVERRIDE)",
    "\u200b": "U+200B (ZERO WIDTH SPACE)",
}
CHARS = pytest.mark.parametrize("char", list(FORBIDDEN), ids=[v[:6] for v in FORBIDDEN.values()])
DECOMPOSED = "Zoe\u0308 Ja\u0308nssen"  # "Zoë Jänssen" typed with combining diaereses
COMPOSED = "Zoë Jänssen"


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("beheer", "b@example.org", "x"))
    return client


def add_holder(client: Client, **values: str) -> Any:
    # The admin's add form, drawn for its one-time token (tests/enrollment/admin_pages.py).
    return admin_pages.post_add_form(client, **values)


def issue_command(*args: str) -> dict[str, str]:
    out = StringIO()
    call_command(
        "issue_holder",
        *(args or ("--name", "X", "--organisation", "Zorg BV", "--contact-email", "c@example.org")),
        "--json",
        stdout=out,
    )
    return dict(json.loads(out.getvalue()))


def csv_report(**values: str) -> bulk.ImportReport:
    row = {
        "name": "A. Janssen",
        "organisation": "Zorggroep Noord",
        "contact_email": "contact@noord.example",
        "agb_code": "",
        "pin_delivery": "letter",
        "messagebox_address": "",
        # A new organisation's postal address, for its PIN letters.
        "postal_address": "Postbus 1",
        "postal_code": "1000 AA",
        "city": "Amsterdam",
        **values,
    }
    quoted = ",".join('"' + value.replace('"', '""') + '"' for value in row.values())
    return bulk.read(",".join(row) + "\n" + quoted + "\n")


@CHARS
def test_the_admin_add_form_refuses_the_character_and_names_field_and_character(
    admin_client: Client, char: str
) -> None:
    response = add_holder(admin_client, display_name=f"B. de{char}Vries")
    assert response.status_code == 200
    assert f"Naam: het teken {FORBIDDEN[char]} is niet toegestaan." in response.content.decode()
    assert not Holder.objects.exists()


@CHARS
def test_the_admin_add_form_refuses_it_in_the_contact_address_too(
    admin_client: Client, char: str
) -> None:
    response = add_holder(admin_client, contact_email=f"contact{char}@example.org")
    page = response.content.decode()
    assert f"E-mailadres contactpersoon: het teken {FORBIDDEN[char]} is niet toegestaan." in page
    # Alone: "not a valid address" would only hide which character is the problem.
    assert "geldig e-mailadres" not in page
    assert not Holder.objects.exists()


@CHARS
def test_the_organisation_admin_refuses_it_in_name_and_agb_code(
    admin_client: Client, char: str
) -> None:
    response = admin_client.post(
        "/admin/enrollment/organisation/add/",
        {"name": f"Zorg{char}BV", "agb_code": f"1234{char}5678"},
    )
    page = response.content.decode()
    assert f"Naam: het teken {FORBIDDEN[char]} is niet toegestaan." in page
    assert f"AGB-code: het teken {FORBIDDEN[char]} is niet toegestaan." in page
    assert not Organisation.objects.exists()


@CHARS
@pytest.mark.parametrize(
    "column", ["name", "organisation", "contact_email", "agb_code", "messagebox_address"]
)
def test_the_csv_import_reports_the_row_column_and_character(char: str, column: str) -> None:
    values = {column: f"1234{char}5678@x.example"}
    if column == "messagebox_address":
        values["pin_delivery"] = "messagebox"
    report = csv_report(**values)
    assert not report.ok
    (row,) = report.rows
    assert row.line == 2
    with translation.override("en"):
        problems = " ".join(str(e) for e in row.errors)
    assert f"{column}: " in problems and FORBIDDEN[char] in problems, problems
    with pytest.raises(ValueError):
        bulk.import_holders(report)
    assert not Holder.objects.exists() and not Organisation.objects.exists()


@CHARS
@pytest.mark.parametrize("option", ["--name", "--organisation", "--contact-email", "--agb-code"])
def test_issue_holder_refuses_it_in_every_text_option(char: str, option: str) -> None:
    values = {
        "--name": "A. Janssen",
        "--organisation": "Zorg BV",
        "--contact-email": "c@example.org",
        "--agb-code": "12345678",
    }
    values[option] = (
        f"1234{char}5678@x.example" if option == "--contact-email" else f"1234{char}5678"
    )
    args = [item for pair in values.items() for item in pair]
    with translation.override("en"), pytest.raises(CommandError) as refused:
        issue_command(*args)
    assert f"the character {FORBIDDEN[char]} is not allowed." in str(refused.value)
    assert not Holder.objects.exists() and not Organisation.objects.exists()


@CHARS
@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("display_name", "Name"),
        ("contact_email", "Contact person's e-mail"),
        ("messagebox_address", "Message box address"),
    ],
)
def test_full_clean_refuses_it_in_every_holder_field(char: str, field: str, label: str) -> None:
    values = {
        "display_name": "A. Janssen",
        "contact_email": "c@example.org",
        "pin_delivery": "messagebox",
        "messagebox_address": "box@example.org",
    }
    values[field] = f"a{char}b@example.org"
    holder = Holder(organisation=make_organisation(), **values)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        holder.full_clean(exclude=["user_number"])
    with translation.override("en"):
        assert refused.value.message_dict[field] == [
            f"{label}: the character {FORBIDDEN[char]} is not allowed."
        ]


def test_the_dutch_message_names_field_and_character() -> None:
    organisation = Organisation(name="Zorg\u2028BV")
    with translation.override("nl"), pytest.raises(ValidationError) as refused:
        organisation.full_clean()
    with translation.override("nl"):
        assert refused.value.message_dict["name"] == [
            "Naam: het teken U+2028 (LINE SEPARATOR) is niet toegestaan."
        ]


def test_every_path_stores_names_in_nfc_without_surrounding_spaces(admin_client: Client) -> None:
    add_holder(admin_client, display_name=f"  {DECOMPOSED}  ")
    assert Holder.objects.get().display_name == COMPOSED

    data = issue_command(
        "--name",
        f"\u00a0{DECOMPOSED}\n",
        "--organisation",
        " Zorg BV ",
        "--contact-email",
        "c@example.org",
    )
    holder = Holder.objects.get(user_number=data["user_number"])
    assert holder.display_name == COMPOSED and holder.organisation.name == "Zorg BV"

    report = csv_report(name=DECOMPOSED, organisation="Zorggroep Noo\u0301rd ")
    assert report.ok, report.rows[0].errors
    ((imported, _pin),) = bulk.import_holders(report)
    assert imported.display_name == COMPOSED
    assert imported.organisation.name == "Zorggroep Noórd"

    holder = Holder(organisation=make_organisation(), display_name=f" {DECOMPOSED} ")
    holder.contact_email = "c@example.org"
    holder.full_clean(exclude=["user_number"])
    assert holder.display_name == COMPOSED


def test_an_organisation_typed_in_two_unicode_forms_is_one_organisation() -> None:
    first = Organisation.objects.find_or_create("Zorggroep Noórd")
    second = Organisation.objects.find_or_create("Zorggroep Noo\u0301rd")
    assert first.pk == second.pk and Organisation.objects.count() == 1


def test_an_agb_code_is_eight_ascii_digits() -> None:
    with pytest.raises(ValidationError) as refused:
        Organisation(name="Zorg BV", agb_code="١٢٣٤٥٦٧٨").full_clean()
    assert "agb_code" in refused.value.message_dict
    Organisation(name="Zorg BV", agb_code="12345678").full_clean()


@pytest.mark.parametrize(
    ("validate", "value"),
    [
        (RegexValidator(CERTIFICATE_NAME_PATTERN), "ABC\n"),
        (
            lambda value: PolicyDocument._meta.get_field("version").run_validators(value),
            "1.0\n",
        ),
    ],
)
def test_patterns_refuse_a_trailing_line_feed(validate: Any, value: str) -> None:
    # "$" matches before a final "\n"; the patterns end in "\Z".
    with pytest.raises(ValidationError):
        validate(value)
