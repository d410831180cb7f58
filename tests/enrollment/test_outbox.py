"""Nothing half-made: what can fail fails before the commit; mail is sent after it, retried."""

from __future__ import annotations

import json
import re
import smtplib
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from audit.models import AuditEntry, AuditEvent
from enrollment import bulk
from enrollment.models import ActivationCode, Holder, Organisation, PinCheck
from enrollment.outbox import OutgoingMail
from enrollment.tasks import sweep_outgoing_mail
from tests.enrollment import admin_pages

pytestmark = pytest.mark.django_db

FAILING_BACKEND = f"{__name__}.SmtpDownBackend"
LOCMEM_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CSV = """name,organisation,contact_email,pin_delivery,messagebox_address,postal_address,postal_code,city
A. Janssen,Zorggroep Noord,contact@noord.example,letter,,Postbus 1,1000 AA,Amsterdam
"B.\u2028Fout",Zorggroep Noord,contact@noord.example,letter,,,,
C. de Boer,Zorggroep Noord,contact@noord.example,messagebox,box@noord.example,,,
"""


class SmtpDownBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPException("451 relay down")


@pytest.fixture
def admin_client(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("beheer", "b@example.org", "x"))
    return client


def add_holder(client: Client, name: str = "B. de Vries") -> Any:
    # The admin's add form, then the PIN page it redirects to (tests/enrollment/admin_pages.py).
    return admin_pages.add_holder(client, display_name=name)


shown_pin = admin_pages.shown_pin


def issue_command(name: str = "A. Janssen", organisation: str = "Nieuwe Zorg BV") -> str:
    out = StringIO()
    call_command(
        "issue_holder",
        "--name",
        name,
        "--organisation",
        organisation,
        "--contact-email",
        "c@example.org",
        "--json",
        stdout=out,
    )
    return out.getvalue()


def nothing_was_written() -> bool:
    return not (
        Holder.objects.exists()
        or ActivationCode.objects.exists()
        or OutgoingMail.objects.exists()
        or AuditEntry.objects.filter(event=AuditEvent.HOLDER_ISSUED).exists()
    )


def test_a_mail_failing_after_the_commit_still_shows_the_pin_and_a_sweep_sends_it_later(
    admin_client: Client,
    settings: Any,
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.EMAIL_BACKEND = FAILING_BACKEND
    with django_capture_on_commit_callbacks(execute=True):
        response = add_holder(admin_client)
    assert response.status_code == 200
    holder = Holder.objects.get()
    assert ActivationCode.verify(
        holder.user_number, shown_pin(response.content.decode())
    ).result is (PinCheck.OK)
    pending = OutgoingMail.objects.get()
    assert pending.sent_at is None and pending.attempts == 1
    assert "SMTPException: 451 relay down" in pending.last_error
    assert AuditEntry.objects.get(event=AuditEvent.HOLDER_ISSUED).object_id == str(holder.pk)

    settings.EMAIL_BACKEND = LOCMEM_BACKEND
    assert sweep_outgoing_mail() == 0  # not due yet: the retry waits
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert sweep_outgoing_mail() == 1
        assert sweep_outgoing_mail() == 0
    (sent,) = mail.outbox
    assert sent.to == ["contact@example.org"] and holder.user_number in str(sent.body)
    pending.refresh_from_db()
    assert pending.sent_at is not None and pending.attempts == 2 and pending.last_error == ""
    assert bytes(pending.body_encrypted) == b""  # nothing of the mail kept once it is sent


def test_issue_holder_prints_the_pin_when_the_mail_server_is_down(
    settings: Any, eager_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EMAIL_BACKEND = FAILING_BACKEND
    with django_capture_on_commit_callbacks(execute=True):
        data = json.loads(issue_command())
    assert ActivationCode.verify(data["user_number"], data["pin"]).result is PinCheck.OK
    assert OutgoingMail.objects.get().last_error.startswith("SMTPException")


@pytest.mark.parametrize(
    "setting",
    [("PORTAL_NAME", "Zorg\nportaal"), ("DEFAULT_FROM_EMAIL", "Zorg <a@b.nl>\nBcc: c@d.nl")],
)
def test_a_header_that_no_mail_can_carry_is_refused_before_anything_is_written(
    admin_client: Client, settings: Any, setting: tuple[str, str]
) -> None:
    setattr(settings, *setting)
    response = add_holder(admin_client)
    assert response.status_code == 200
    assert "Deze e-mail kan niet worden opgesteld" in response.content.decode()
    with pytest.raises(CommandError, match="niet worden opgesteld"):
        issue_command()
    report = bulk.read(CSV.replace("\u2028", " "))
    assert not report.ok and all(row.errors for row in report.rows)
    assert nothing_was_written()
    assert not Organisation.objects.filter(name="Nieuwe Zorg BV").exists()


def test_a_csv_with_one_bad_row_in_the_middle_imports_nothing_and_names_the_row(
    admin_client: Client,
) -> None:
    page = admin_client.post("/admin/enrollment/holder/import/", {"csv_text": CSV}).content.decode()
    assert "niets geïmporteerd" in page
    assert re.search(r"<td>3</td><td>B.\u2028Fout</td>.*?name: het teken U\+2028", page, re.S)
    response = admin_client.post(
        "/admin/enrollment/holder/import/", {"csv_text": CSV, "confirm": "1"}
    )
    assert response["Content-Type"].startswith("text/html")
    assert nothing_was_written() and not Organisation.objects.exists()


def test_a_row_that_fails_while_importing_undoes_the_rows_before_it() -> None:
    report = bulk.read(CSV.replace("\u2028", " "))
    assert report.ok
    # The report went stale between check and import (the file is re-read on confirm; here
    # the row is changed behind the report's back).
    report.rows[1].values["name"] = "B.\nFout"
    with pytest.raises(bulk.RowRefused) as refused:
        bulk.import_holders(report)
    assert refused.value.line == 3 and refused.value.problems[0].startswith("name: ")
    assert nothing_was_written()


def test_a_pin_in_a_stored_mail_is_encrypted_at_rest(admin_client: Client) -> None:
    text = CSV.replace("\u2028", " ")
    page = admin_pages.import_csv(admin_client, text)
    assert admin_pages.letters_of(admin_client, page.content.decode())["Content-Type"] == (
        "application/pdf"
    )
    boxed = Holder.objects.get(pin_delivery="messagebox")
    row = OutgoingMail.objects.get(kind="pin")
    assert row.recipients == ["box@noord.example"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM enrollment_outgoingmail WHERE id = %s", [row.pk])
        stored = repr(cursor.fetchone())
    # Every 8-digit run in the row, decoded or not, is not a PIN that works.
    assert not [
        pin
        for pin in re.findall(r"\d{8}", stored)
        if ActivationCode.verify(boxed.user_number, pin).result is PinCheck.OK
    ]
    mail.outbox.clear()
    assert OutgoingMail.objects.send(row.pk) is True
    pin = re.search(r"Pincode: (\d{8})", str(mail.outbox[0].body))
    assert pin is not None and pin.group(1) not in stored
    assert ActivationCode.verify(boxed.user_number, pin.group(1)).result is PinCheck.OK


def test_a_mail_is_sent_once_though_the_task_and_a_sweep_both_try(admin_client: Client) -> None:
    add_holder(admin_client)
    row = OutgoingMail.objects.get()
    assert OutgoingMail.objects.send(row.pk) is True
    assert OutgoingMail.objects.send(row.pk) is False
    assert sweep_outgoing_mail() == 0
    assert len(mail.outbox) == 1


def test_a_mail_is_given_up_after_the_last_attempt(admin_client: Client, settings: Any) -> None:
    settings.EMAIL_BACKEND = FAILING_BACKEND
    settings.MAIL_MAX_ATTEMPTS = 2
    add_holder(admin_client)
    row = OutgoingMail.objects.get()
    assert OutgoingMail.objects.send(row.pk) is False
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert sweep_outgoing_mail() == 0
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert sweep_outgoing_mail() == 0
    row.refresh_from_db()
    assert row.attempts == 2 and row.failed_at is not None and row.sent_at is None
    assert bytes(row.body_encrypted) == b"" and "451 relay down" in row.last_error
