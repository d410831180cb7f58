"""Reminder e-mails 60, 30 and 7 days before expiry, each exactly once, through real SMTP."""

from __future__ import annotations

import email
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller

from ca.models import CertificateAuthority, RevocationReason
from enrollment.models import Enrollment
from selfservice.reminders import send_due_reminders
from tests.fixtures.ca import certificate_of, fixture_bytes, order_for
from tests.fixtures.concurrency import at_once
from tests.stack_ports import free_port

pytestmark = pytest.mark.django_db


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(settings: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox
    controller.stop()


@pytest.fixture
def enrollment(
    hierarchy: CertificateAuthority,
    make_enrollment: Callable[..., Enrollment],
    eager_tasks: None,
    django_capture_on_commit_callbacks: Any,
) -> Enrollment:
    """An enrollment whose certificate is issued and recorded."""
    enrollment = make_enrollment()
    with django_capture_on_commit_callbacks(execute=True):
        order_for(enrollment, fixture_bytes("p256.pem"))
    certificate_of(enrollment)
    return enrollment


def test_each_threshold_is_mailed_exactly_once_with_a_calendar_entry(
    smtp: Inbox, enrollment: Enrollment
) -> None:
    not_after = certificate_of(enrollment).not_after
    sent_at = []
    for days_before in (90, 59, 59, 45, 29, 29, 6, 6, 1):
        with time_machine.travel(not_after - timedelta(days=days_before), tick=False):
            sent_at.append(send_due_reminders())
    assert sent_at == [0, 1, 0, 0, 1, 0, 1, 0, 0]
    assert [m["Subject"].split("over ")[1] for m in smtp.messages] == [
        "60 dagen",
        "30 dagen",
        "7 dagen",
    ]
    for message in smtp.messages:
        assert message["To"] == enrollment.email
        calendars = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
        assert len(calendars) == 1 and b"BEGIN:VEVENT" in calendars[0].get_payload(decode=True)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_send_one_mail(
    smtp: Inbox, enrollment: Enrollment, postgres_url: str
) -> None:
    # Real concurrency needs a real database: SQLite's in-memory test database locks tables.
    with time_machine.travel(certificate_of(enrollment).not_after - timedelta(days=20), tick=False):
        results = at_once(send_due_reminders, 2)
    assert sorted(results) == [0, 1]
    # (The contact person's user-number mail of the holder's creation also went out.)
    assert [m["To"] for m in smtp.messages].count(enrollment.email) == 1


def test_revoked_certificates_get_no_reminders(smtp: Inbox, enrollment: Enrollment) -> None:
    certificate = certificate_of(enrollment)
    certificate.revoke(RevocationReason.SUPERSEDED, actor="test")
    with time_machine.travel(certificate.not_after - timedelta(days=5), tick=False):
        assert send_due_reminders() == 0
    assert smtp.messages == []


def test_a_failed_send_is_tried_again_next_run(enrollment: Enrollment, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    with time_machine.travel(certificate_of(enrollment).not_after - timedelta(days=5), tick=False):
        assert send_due_reminders() == 0
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert send_due_reminders() == 1
