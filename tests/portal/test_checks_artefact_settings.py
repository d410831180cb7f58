"""PORTAL_NAME, PORTAL_URL and DEFAULT_FROM_EMAIL are checked at start-up (portal.E004-E006)."""

from __future__ import annotations

from email.headerregistry import HeaderRegistry
from typing import Any

import pytest

from core import checks
from tests.fixtures.production import manage

DUTCH_NAMES = ["Zorgportaal 't Gooi", "Zorgportaal Noord-Brabant", "Zoë & Zorg (Noord)"]


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


@pytest.mark.parametrize("name", DUTCH_NAMES)
def test_ordinary_dutch_portal_names_pass(settings: Any, name: str) -> None:
    settings.PORTAL_NAME = name
    assert checks.portal_name_valid(None) == []


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Zorg\nportaal",
        "Zorg\u2028portaal",
        "Zorg\x85portaal",
        "Zorg\tportaal",
        "x" * 81,
        " Zorgportaal",
        "Zorg:portaal",  # NSS nickname "token:name", authenticator label "issuer:account"
        "Zorg;portaal",  # iCalendar PRODID
        "Zorg/portaal",
        'Zorg "portaal"',
        "Zorg$(id)",
        "Zoe\u0308",  # not NFC
    ],
)
def test_a_portal_name_that_would_break_an_artefact_is_error_e004(settings: Any, name: str) -> None:
    settings.PORTAL_NAME = name
    (error,) = checks.portal_name_valid(None)
    assert error.id == "portal.E004" and error.hint and "80" in error.hint


@pytest.mark.parametrize(
    "url",
    ["https://portaal.example.org", "http://127.0.0.1:8000", "https://zorg.example.nl/portaal"],
)
def test_ordinary_portal_urls_pass(settings: Any, url: str) -> None:
    settings.PORTAL_URL = url
    assert checks.portal_url_valid(None) == []


@pytest.mark.parametrize(
    "url",
    [
        "portaal.example.org",
        "ftp://portaal.example.org",
        "https://",
        "https://user@portaal.example.org",
        "https://portaal.example.org?x=1",
        "https://portaal.example.org#top",
        "https://portaal.example.org/",
        "https://portaal.example.org:99999",
        "https://portaal.example.org:",
        "https://portaal.example.org/a b",
        "https://portaal.example.org/%41",
        "https://portaal.example.org/~zorg",  # a tilde is not safe in the Windows installer
        "https://portaal.example.org/a//b",
        "https://-portaal.example.org",
        "https://portaal.example.org\n",
        "https://portäal.example.org",
    ],
)
def test_a_portal_url_that_would_break_an_installer_is_error_e005(settings: Any, url: str) -> None:
    settings.PORTAL_URL = url
    (error,) = checks.portal_url_valid(None)
    assert error.id == "portal.E005" and error.hint


@pytest.mark.parametrize(
    "sender",
    [
        "noreply@portaal.example.org",
        "Zorgportaal 't Gooi <noreply@portaal.example.org>",
        '"Zorg, Noord" <noreply@portaal.example.org>',
        "Certificaatportaal <noreply@localhost>",
    ],
)
def test_ordinary_senders_pass(settings: Any, sender: str) -> None:
    settings.DEFAULT_FROM_EMAIL = sender
    assert checks.from_email_valid(None) == []


@pytest.mark.parametrize(
    "sender",
    [
        "",
        "noreply",
        "Zorg <noreply@portaal.example.org>\nBcc: iedereen@example.org",
        "Zorg <noreply@portaal.example.org>\r",
        "Zorg, Noord <noreply@portaal.example.org>",
        "a@example.org, b@example.org",
        "Zorg <noreply@portaal.example.org",
        "Zorg <noreply@portaal.example.org> extra",
        "Zorg <noreply@@portaal.example.org>",
    ],
)
def test_a_sender_that_cannot_head_a_mail_is_error_e006(settings: Any, sender: str) -> None:
    settings.DEFAULT_FROM_EMAIL = sender
    (error,) = checks.from_email_valid(None)
    assert error.id == "portal.E006" and error.hint


def test_the_checks_run_at_start_up_and_stop_it() -> None:
    result = manage(
        "check",
        extra_env={
            "PORTAL_NAME": "Zorg:portaal",
            "PORTAL_URL": "https://portaal.example.org/?x",
            "DEFAULT_FROM_EMAIL": "Zorg, Noord <noreply@portaal.example.org>",
        },
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert all(f"portal.E00{n}" in output for n in (4, 5, 6)), output


def test_the_default_sender_quotes_the_portal_name_so_it_reads_back_whole() -> None:
    for name in [*DUTCH_NAMES, "Zorg.nl"]:
        result = manage(
            "shell",
            "-c",
            "from django.conf import settings; print(settings.DEFAULT_FROM_EMAIL)",
            extra_env={"PORTAL_NAME": name},
        )
        sender = result.stdout.strip().splitlines()[-1]
        (address,) = HeaderRegistry()("From", sender).addresses  # type: ignore[attr-defined]
        assert (address.display_name, address.addr_spec) == (name, "noreply@localhost")
    assert manage("check", extra_env={"PORTAL_NAME": "Zorgportaal 't Gooi"}).returncode == 0
