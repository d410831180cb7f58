"""Admins at scale: CSV import with a report before anything is written, PIN letters as PDF."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from enrollment.models import ActivationCode, Holder, PinCheck
from enrollment.tasks import expire_and_remind
from tests.enrollment.factories import issue_holder
from tests.fixtures.services import require_binary

pytestmark = pytest.mark.django_db

GOOD = """name,organisation,contact_email,kind,allowed_ips,agb_code,pin_delivery,messagebox_address
A. Janssen,Zorggroep Noord,contact@noord.example,personal,,12345678,letter,
Praktijksoftware,Zorggroep Noord,contact@noord.example,system,192.0.2.0/24;2001:db8::/48,,messagebox,berichtenbox@noord.example
"""
BAD = GOOD + "B. Fout,Zorggroep Noord,geen-email,robot,,,letter,\n"


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("beheer", "b@example.org", "x"))
    return client


def upload(client: Client, text: str) -> Any:
    return client.post(
        "/admin/enrollment/holder/import/",
        {"csv_file": SimpleUploadedFile("h.csv", text.encode(), "text/csv")},
    )


def test_a_file_with_errors_gets_a_report_per_line_and_writes_nothing(admin_client: Client) -> None:
    page = upload(admin_client, BAD).content.decode()
    assert "nothing has been imported" in page.lower() or "niets geïmporteerd" in page
    assert "contact_email" in page and "kind must be personal or system" in page
    assert Holder.objects.count() == 0


def test_a_clean_file_is_shown_first_then_imported_whole_with_pin_letters(
    admin_client: Client, tmp_path: Path, django_capture_on_commit_callbacks: Any, eager_tasks: None
) -> None:
    report = upload(admin_client, GOOD).content.decode()
    assert Holder.objects.count() == 0
    csv_text = re.search(r'<textarea name="csv_text" hidden>(.*?)</textarea>', report, re.S)
    assert csv_text is not None
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/enrollment/holder/import/", {"csv_text": GOOD, "confirm": "1"}
        )
    assert response["Content-Type"] == "application/pdf"
    assert Holder.objects.count() == 2
    system = Holder.objects.get(kind="system")
    assert [str(n) for n in system.networks] == ["192.0.2.0/24", "2001:db8::/48"]

    pdf = tmp_path / "letters.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(
        [require_binary("pdftotext"), str(pdf), "-"], capture_output=True, text=True
    ).stdout
    personal = Holder.objects.get(kind="personal")
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


def test_the_import_is_all_or_nothing(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/enrollment/holder/import/", {"csv_text": BAD, "confirm": "1"}
    )
    assert response["Content-Type"].startswith("text/html")
    assert Holder.objects.count() == 0


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


def test_names_outside_latin_1_keep_their_letters_on_the_letter() -> None:
    from enrollment.letters import _latin1

    assert _latin1("Łukasz Wiśniewski") == "Lukasz Wisniewski"
    assert _latin1("Zoë Ørsted") == "Zoë Ørsted"
