"""Admins at scale: a CSV import checked first, confirmed once, imported whole, with letters."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone, translation

from audit.models import AuditEntry, AuditEvent
from core.escaping import csv_cell
from enrollment import bulk
from enrollment.models import ActivationCode, Holder, HolderImport, ImportState, PinCheck
from enrollment.tasks import expire_and_remind
from tests.enrollment.admin_pages import (
    confirm_import,
    import_csv,
    letters_of,
    make_admin,
    upload_csv,
)
from tests.enrollment.factories import issue_holder, make_organisation
from tests.fixtures.services import require_binary

pytestmark = pytest.mark.django_db

GOOD = """name,organisation,contact_email,kind,allowed_ips,agb_code,pin_delivery,messagebox_address,postal_address,postal_code,city
A. Janssen,Zorggroep Noord,contact@noord.example,personal,,12345678,letter,,Postbus 12,9700 AB,Groningen
Praktijksoftware,Zorggroep Noord,contact@noord.example,system,192.0.2.0/24;2001:db8::/48,,messagebox,berichtenbox@noord.example,,,
"""
DUTCH = """naam;organisatie;email_contactpersoon;soort;pincode_bezorging;contactpersoon;postadres;postcode;plaats
A. Janssen;Zorggroep Zuid;contact@zuid.example;persoonlijk;brief;ja;Markt 1;5611 AA;Eindhoven
"""


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(make_admin())
    return client


def pdf_text_of(tmp_path: Path, data: bytes) -> str:
    pdf = tmp_path / "letters.pdf"
    pdf.write_bytes(data)
    return subprocess.run(
        [require_binary("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_a_clean_file_is_checked_then_confirmed_then_imported_with_letters(
    admin_client: Client,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
    eager_tasks: None,
) -> None:
    uploaded = upload_csv(admin_client, GOOD)
    assert uploaded.status_code == 302 and not Holder.objects.exists()
    check = admin_client.get(uploaded["Location"]).content.decode()
    assert "Alle 2 regels zijn in orde" in check and "Er is nog niets opgeslagen" in check
    with django_capture_on_commit_callbacks(execute=True):
        confirm_import(admin_client, uploaded["Location"])
    page = admin_client.get(uploaded["Location"]).content.decode()
    assert "2 certificaathouders geïmporteerd" in page
    system = Holder.objects.get(kind="system")
    assert [str(n) for n in system.networks] == ["192.0.2.0/24", "2001:db8::/48"]

    personal = Holder.objects.get(kind="personal")
    assert personal.organisation.address_lines() == ["Postbus 12", "9700 AB  GRONINGEN"]
    text = pdf_text_of(tmp_path, letters_of(admin_client, page).content)
    assert personal.user_number in text and system.user_number not in text
    pin = re.search(r"Pincode\s+(\d{8})", text)
    assert pin is not None
    assert ActivationCode.verify(personal.user_number, pin.group(1)).result is PinCheck.OK

    # The message-box holder's PIN went by e-mail to the message box, and works.
    boxed = [m for m in mail.outbox if m.to == ["berichtenbox@noord.example"]]
    assert len(boxed) == 1
    boxed_pin = re.search(r"Pincode: (\d{8})", str(boxed[0].body))
    assert boxed_pin is not None
    assert ActivationCode.verify(system.user_number, boxed_pin.group(1)).result is PinCheck.OK
    [entry] = AuditEntry.objects.filter(event=AuditEvent.HOLDERS_IMPORTED)
    assert entry.actor == "admin:beheer" and entry.details["holders"] == 2
    assert {e.actor for e in AuditEntry.objects.filter(event=AuditEvent.HOLDER_ISSUED)} == {
        "admin:beheer"
    }


def test_confirming_twice_imports_once_and_says_so(admin_client: Client) -> None:
    uploaded = upload_csv(admin_client, GOOD)
    confirm_import(admin_client, uploaded["Location"])
    second = confirm_import(admin_client, uploaded["Location"])
    assert Holder.objects.count() == 2
    page = admin_client.get(second["Location"]).content.decode()
    assert "Deze import was al bevestigd" in page


def test_a_file_uploaded_again_is_flagged_and_needs_a_tick(admin_client: Client) -> None:
    import_csv(admin_client, GOOD)
    again = upload_csv(admin_client, GOOD.replace("\n", "\r\n"))  # the same file, saved on Windows
    page = admin_client.get(again["Location"]).content.decode()
    assert "Dit bestand is al eerder geïmporteerd" in page and "door beheer" in page
    refused = confirm_import(admin_client, again["Location"])
    assert refused.status_code == 302 and Holder.objects.count() == 2
    assert HolderImport.objects.get(pk=again["Location"].split("/")[-2]).state == "checked"
    confirm_import(admin_client, again["Location"], import_again="1", include_duplicates="1")
    assert Holder.objects.count() == 4


def test_rows_matching_existing_holders_are_asked_about_and_skipped_unless_ticked(
    admin_client: Client,
) -> None:
    existing, _pin = issue_holder(
        name="a.  JANSSEN", organisation=make_organisation("Zorggroep Noord")
    )
    uploaded = upload_csv(admin_client, GOOD)
    page = admin_client.get(uploaded["Location"]).content.decode()
    assert f"Bestaat al: gebruikersnummer {existing.user_number}" in page
    assert 'name="include_duplicates"' in page
    confirm_import(admin_client, uploaded["Location"])
    assert list(Holder.objects.filter(display_name="A. Janssen")) == []
    assert Holder.objects.filter(kind="system").count() == 1


def test_a_row_repeated_in_the_file_is_flagged(admin_client: Client) -> None:
    lines = GOOD.splitlines()
    uploaded = upload_csv(admin_client, "\n".join([*lines, lines[1]]) + "\n")
    page = admin_client.get(uploaded["Location"]).content.decode()
    assert "Zelfde als regel 2" in page
    confirm_import(admin_client, uploaded["Location"], include_duplicates="1")
    assert Holder.objects.filter(display_name="A. Janssen").count() == 2


def test_dutch_column_names_and_values_are_understood(admin_client: Client) -> None:
    report = bulk.read(DUTCH)
    assert report.ok, report.rows[0].errors
    import_csv(admin_client, DUTCH)
    holder = Holder.objects.get()
    assert holder.kind == "personal" and holder.pin_delivery == "letter"
    assert holder.is_contact_person and holder.organisation.city == "Eindhoven"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", ["naam: Dit veld kan niet leeg zijn", "soort: schrijf persoonlijk of systeem"]),
        ("en", ["naam: This field cannot be blank.", "soort: write personal or system"]),
    ],
)
def test_each_problem_is_reported_once_in_the_admin_s_language(
    language: str, expected: list[str]
) -> None:
    text = DUTCH.replace("A. Janssen;", ";").replace("persoonlijk", "robot")
    with translation.override(language):
        report = bulk.read(text)
        (row,) = report.rows
        problems = [str(problem) for problem in row.errors]
    assert len(problems) == 2, problems
    for start, problem in zip(expected, sorted(problems), strict=True):
        assert problem.startswith(start), problems


def test_a_file_with_errors_gets_a_report_per_line_and_writes_nothing(admin_client: Client) -> None:
    bad = GOOD + "B. Fout,Zorggroep Noord,geen-email,robot,,,letter,,,,\n"
    page = upload_csv(admin_client, bad).content.decode()
    assert "niets geïmporteerd" in page
    assert "contact_email: Voer een geldig e-mailadres in." in page
    assert "kind: schrijf persoonlijk of systeem" in page
    assert page.count("kind: schrijf") == 1
    assert not Holder.objects.exists() and not HolderImport.objects.exists()


def test_unknown_and_missing_columns_are_named(admin_client: Client) -> None:
    page = upload_csv(admin_client, "naam,telefoon\nA,1\n").content.decode()
    assert "Ontbrekende kolommen: organisatie, email_contactpersoon" in page
    assert "Onbekende kolommen: telefoon" in page


def test_a_letter_row_needs_a_postal_address(admin_client: Client) -> None:
    text = "naam,organisatie,email_contactpersoon\nA. Janssen,Zonder Adres BV,c@x.example\n"
    page = upload_csv(admin_client, text).content.decode()
    assert "Zonder Adres BV heeft geen postadres voor de pincodebrief" in page


def test_a_row_that_fails_while_importing_fails_the_import_whole(admin_client: Client) -> None:
    uploaded = upload_csv(admin_client, GOOD)
    record = HolderImport.objects.get()
    rows = record.rows
    rows[1]["values"]["name"] = "B.\nFout"  # the database changed behind the report's back
    HolderImport.objects.filter(pk=record.pk).update(rows=rows)
    confirm_import(admin_client, uploaded["Location"])
    record.refresh_from_db()
    assert record.state == ImportState.FAILED and not Holder.objects.exists()
    # In the admin's language, the column too (the worker no longer has the file's header).
    assert record.error.startswith("Regel 3: naam:") and "Er is niets geïmporteerd" in record.error
    assert "Regel 3" in admin_client.get(uploaded["Location"]).content.decode()


def test_the_template_is_in_the_admin_s_language_and_imports_as_it_is(
    admin_client: Client,
) -> None:
    dutch = admin_client.get("/admin/enrollment/holder/import/template.csv")
    assert dutch["Content-Type"].startswith("text/csv")
    text = dutch.content.decode()
    assert text.startswith("naam;organisatie;email_contactpersoon")
    with translation.override("nl"):
        assert bulk.read(text).ok
    admin_client.post("/i18n/setlang/", {"language": "en"})
    english = admin_client.get("/admin/enrollment/holder/import/template.csv").content.decode()
    assert english.startswith("name,organisation,contact_email")


@pytest.mark.parametrize(
    "hostile", ["=1+2", "+31 6", "-2", "@SUM(A1)", "\t=1", "\r=1", " =HYPERLINK(1)", "\uff1d1"]
)
def test_an_exported_csv_cell_never_starts_a_formula(hostile: str) -> None:
    out = io.StringIO()
    csv.writer(out).writerow([csv_cell(hostile), csv_cell("A. Janssen")])
    (cells,) = list(csv.reader(io.StringIO(out.getvalue())))
    assert cells[0] == "'" + hostile and cells[1] == "A. Janssen"


def rows_of(count: int) -> str:
    return "naam,organisatie,email_contactpersoon\n" + "".join(
        f"Medewerker {n},Zorggroep Groot,contact@groot.example\n" for n in range(count)
    )


def test_five_thousand_rows_are_checked_within_a_request(admin_client: Client) -> None:
    make_organisation("Zorggroep Groot")
    started = time.monotonic()
    uploaded = upload_csv(admin_client, rows_of(bulk.MAX_ROWS))
    checked_in = time.monotonic() - started
    assert uploaded.status_code == 302
    # About 1.3 ms a row here; gunicorn's timeout is 30 s (deploy/entrypoint.sh).
    assert checked_in < 25, f"checking {bulk.MAX_ROWS} rows took {checked_in:.1f} s"
    assert HolderImport.objects.get().total == bulk.MAX_ROWS
    page = admin_client.get(uploaded["Location"]).content.decode()
    assert "En nog 4800 goede regels" in page  # the page lists 200 rows, not 5,000


def test_an_import_runs_as_a_task_that_counts_its_progress(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_organisation("Zorggroep Groot")
    uploaded = upload_csv(admin_client, rows_of(120))
    seen: list[int] = []
    counted = HolderImport.count_prepared

    def count(record: HolderImport, prepared: int) -> None:
        seen.append(prepared)
        counted(record, prepared)

    saved: list[int] = []
    count_saved = HolderImport.count_saved

    def save(record: HolderImport, number: int) -> None:
        saved.append(number)
        count_saved(record, number)

    monkeypatch.setattr(HolderImport, "count_prepared", count)
    monkeypatch.setattr(HolderImport, "count_saved", save)
    confirm_import(admin_client, uploaded["Location"])
    assert Holder.objects.count() == 120
    assert seen == sorted(seen) and len(seen) >= 6 and seen[-1] == 120
    # The saving, one transaction, is counted too: every 50 holders and at the end.
    assert saved == [50, 100, 120]
    page = admin_client.get(uploaded["Location"]).content.decode()
    assert "120 certificaathouders geïmporteerd" in page


def test_a_running_import_shows_its_progress_and_refreshes(admin_client: Client) -> None:
    uploaded = upload_csv(admin_client, GOOD)
    HolderImport.objects.update(state=ImportState.RUNNING, prepared=1, total=2)
    page = admin_client.get(uploaded["Location"]).content.decode()
    assert '<progress id="import-progress"' in page and 'value="1"' in page
    # Followed by a script that updates the progress in place, not a timed refresh.
    assert "admin-import-progress.js" in page and 'http-equiv="refresh"' not in page


def test_a_running_import_shows_how_many_holders_it_has_saved(admin_client: Client) -> None:
    uploaded = upload_csv(admin_client, GOOD)
    HolderImport.objects.update(state=ImportState.RUNNING, prepared=2, total=2)
    record = HolderImport.objects.get()
    record.count_saved(1)
    page = admin_client.get(uploaded["Location"]).content.decode()
    assert '<progress id="import-saved"' in page and "opgeslagen: 1 van 2" in page
    assert record.percent == 75


def test_contact_persons_are_reminded_of_pins_that_will_expire_unused() -> None:
    holder, _pin = issue_holder()
    ActivationCode.objects.filter(holder=holder).update(
        expires_at=timezone.now() + timedelta(days=3)
    )
    mail.outbox.clear()
    expire_and_remind()
    expire_and_remind()
    reminders = [m for m in mail.outbox if "ongebruikt" in m.subject]
    assert len(reminders) == 1 and reminders[0].to == [holder.contact_email]
