"""What `make run` adds for a calm demo: mail in a local inbox with one console line, the
portal's own 404 and 500 pages under DEBUG, and demo data with a linked authenticator."""

from __future__ import annotations

import io
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from django.core.mail import EmailMessage
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path
from django_otp.oath import TOTP

from enrollment.models import Holder, HolderKind, PolicyDocument
from selfservice.management.commands.seed_demo import secret_of
from selfservice.models import HolderAccount


def test_a_development_mail_lands_in_the_inbox_folder_with_one_console_line(
    settings: Any, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    settings.VAR_DIR = tmp_path
    settings.EMAIL_BACKEND = "core.dev_mail.InboxBackend"
    message = EmailMessage(
        subject="Uw gebruikersnummer — één regel",
        body="Beste A. Janssen,\n\nUw gebruikersnummer is 12345.\n",
        to=["contact@demo.invalid"],
    )
    assert message.send() == 1
    (saved,) = (tmp_path / "mail").glob("*.eml")
    parsed = message_from_bytes(saved.read_bytes())
    assert parsed["To"] == "contact@demo.invalid"
    payload = parsed.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert "Uw gebruikersnummer is 12345." in payload.decode()
    lines = capfd.readouterr().out.splitlines()
    assert lines == [
        f"[mail] aan / to contact@demo.invalid: 'Uw gebruikersnummer — één regel' -> {saved}"
    ]


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), path("", include("config.urls"))]


@pytest.fixture
def debug(settings: Any) -> None:
    settings.DEBUG = True
    settings.ROOT_URLCONF = __name__


@pytest.mark.usefixtures("debug")
def test_under_debug_an_unknown_address_gets_the_portals_own_404(db: None) -> None:
    response = Client().get("/bestaat-niet/", HTTP_ACCEPT_LANGUAGE="nl")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Pagina niet gevonden" in body
    assert "URLconf" not in body


@pytest.mark.usefixtures("debug")
def test_under_debug_the_api_still_answers_json_and_slashes_are_still_added(db: None) -> None:
    api = Client().get("/api/v1/bestaat-niet")
    assert api.status_code == 404 and api.json()["code"] == "not_found"
    assert Client().get("/inloggen").status_code == 301


@pytest.mark.usefixtures("debug")
def test_under_debug_an_error_gets_the_portals_own_500_and_its_traceback_in_the_log(
    db: None, caplog: pytest.LogCaptureFixture
) -> None:
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert "Er ging iets mis" in response.content.decode()
    assert "RuntimeError: a bug" in caplog.text


def seed(settings: Any, mode: str) -> str:
    settings.PORTAL_MODE = mode
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_has_a_policy_a_contact_person_and_a_system_holder(
    settings: Any, db: None
) -> None:
    output = seed(settings, "test")
    assert PolicyDocument.objects.current() is not None
    personal = Holder.objects.get(display_name="A. Janssen")
    assert personal.is_contact_person and personal.kind == HolderKind.PERSONAL
    assert Holder.objects.get(display_name="Demo Koppeling").kind == HolderKind.SYSTEM
    assert f"gebruikersnummer {personal.user_number}" in output
    assert "otpauth://" not in output  # outside development mode no secret is printed


def test_in_development_the_demo_prints_an_authenticator_that_logs_in(
    settings: Any, db: None
) -> None:
    output = seed(settings, "development")
    uri = next(line.strip() for line in output.splitlines() if "otpauth://" in line)
    holder = Holder.objects.get(display_name="A. Janssen")
    assert uri.startswith(f"otpauth://totp/Certificaatportaal%3A{holder.user_number}?secret=")
    secret = secret_of(uri)
    assert f"oathtool --totp --base32 {uri.split('secret=')[1].split('&')[0]}" in output
    account = HolderAccount.of(holder)
    assert account.has_authenticator
    assert account.verify_code(f"{TOTP(secret).token():06d}")
    # The next start gives new PINs but the same authenticator: the app stays linked.
    assert uri in seed(settings, "development")
