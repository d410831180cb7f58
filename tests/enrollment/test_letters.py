"""PIN letters that can be posted: window-envelope layout, sender, date, address, what to do."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import time_machine

from core.escaping import pdf_text
from enrollment.letters import pin_letters_pdf
from enrollment.models import Holder, Organisation
from tests.enrollment.factories import issue_holder, make_organisation
from tests.fixtures.services import require_binary

pytestmark = pytest.mark.django_db


def text_of(tmp_path: Path, data: bytes, *args: str) -> str:
    pdf = tmp_path / "letters.pdf"
    pdf.write_bytes(data)
    return subprocess.run(
        [require_binary("pdftotext"), *args, str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def window_of(tmp_path: Path, data: bytes, page: int = 1) -> list[str]:
    """The lines pdftotext finds in the envelope's window (22-107 mm across, 45-90 mm down)."""
    points = 72 / 25.4
    box = [
        "-f", str(page), "-l", str(page),
        "-x", str(int(20 * points)), "-y", str(int(44 * points)),
        "-W", str(int(90 * points)), "-H", str(int(45 * points)),
    ]  # fmt: skip
    return [line for line in text_of(tmp_path, data, *box).splitlines() if line.strip()]


@time_machine.travel("2026-12-03 10:00 +01:00", tick=False)
def test_a_letter_has_sender_date_address_numbers_validity_and_what_to_do(
    tmp_path: Path, settings: Any
) -> None:
    settings.LETTER_SENDER = ["Certificaatportaal", "Postbus 1234", "1000 AB  AMSTERDAM"]
    settings.LETTER_HELPDESK = "servicedesk@portaal.example of 088 123 45 67"
    settings.PIN_VALIDITY_DAYS = 60
    holder, pin = issue_holder(name="A. Janssen", organisation=make_organisation("Zorg Noord"))
    data = pin_letters_pdf([(holder, pin)])
    text = text_of(tmp_path, data)
    for expected in (
        "Postbus 1234",
        "Datum: 3 december 2026",
        "Zorg Noord",
        "t.a.v. A. Janssen",
        holder.user_number,
        pin,
        "geldig tot en met 1 februari 2027",
        "Pincode kwijt, verlopen of geblokkeerd?",
        "servicedesk@portaal.example of 088 123 45 67",
        "uit dienst",
        "/enroll/",
        "In English",
    ):
        assert expected in " ".join(text.split()), expected
    # The window shows the return line, the addressee and the postal address, nothing else.
    window = window_of(tmp_path, data)
    assert window[0].startswith("Certificaatportaal · Postbus 1234")
    assert window[1:] == ["Zorg Noord", "t.a.v. A. Janssen", "Postbus 1234", "1000 AB AMSTERDAM"]


def test_many_letters_are_one_pdf_with_a_page_each(tmp_path: Path) -> None:
    issued = [issue_holder(name=f"Medewerker {n}") for n in range(3)]
    data = pin_letters_pdf(issued)
    (tmp_path / "many.pdf").write_bytes(data)
    info = subprocess.run(
        [require_binary("pdfinfo"), str(tmp_path / "many.pdf")], capture_output=True, check=True
    ).stdout.decode()
    assert re.search(r"^Pages:\s+3$", info, re.M), info
    text = text_of(tmp_path, data)
    assert all(holder.user_number in text and pin in text for holder, pin in issued)


HOSTILE = [
    "A. Janssen\nBcc: iemand",
    "Zorg ) Tj ET BT /F1 99 Tf (x",
    "Back\\slash (haakjes)",
    "\u202eevil\u202c right-to-left",
    "Łukasz Wiśniewski 张伟 😀",
    "Zeer lange naam " * 30,
    "tab\there\x00nul",
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_names_and_addresses_stay_on_their_line(tmp_path: Path, hostile: str) -> None:
    # Unsaved records: the fields refuse most of these, the letter must not depend on it.
    organisation = Organisation(
        pk=1, name=hostile, postal_address=hostile, postal_code="1000 AB", city=hostile
    )
    holder = Holder(
        pk=1, display_name=hostile, organisation=organisation, user_number="12345678901234"
    )
    data = pin_letters_pdf([(holder, "12345678")])
    window = window_of(tmp_path, data)
    assert len(window) == 5, window  # return line, organisation, t.a.v., street, postcode+city
    text = " ".join(text_of(tmp_path, data).split())
    assert "12345678901234" in text and "12345678" in text
    assert "Bcc: iemand" not in "\n".join(window[:1])


def test_pdf_text_keeps_letters_and_drops_what_breaks_lines() -> None:
    assert pdf_text("Łukasz Wiśniewski") == "Lukasz Wisniewski"
    assert pdf_text("Zoë Ørsted") == "Zoë Ørsted"
    assert pdf_text("A.\nJanssen\r\u2028x") == "A. Janssen x"
    assert pdf_text("\u202eabc") == "abc"
    assert pdf_text("张伟") == "??"
    assert pdf_text("x" * 300, max_length=10) == "xxxxxxx..."
    assert all(ord(ch) < 256 for ch in pdf_text("😀 €"))


def test_the_letter_date_is_today_in_dutch(tmp_path: Path) -> None:
    holder, pin = issue_holder()
    with time_machine.travel("2027-03-15 09:00 +01:00", tick=False):
        text = text_of(tmp_path, pin_letters_pdf([(holder, pin)]))
    assert "Datum: 15 maart 2027" in text


def test_the_letter_sender_is_read_from_the_environment_line_by_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from core.env import env_lines

    monkeypatch.setenv("LETTER_SENDER", " Portaal | Postbus 1 |1000 AA  AMSTERDAM ")
    assert env_lines("LETTER_SENDER") == ["Portaal", "Postbus 1", "1000 AA  AMSTERDAM"]
    monkeypatch.setenv("LETTER_SENDER", "Portaal|Postbus\t1")
    with pytest.raises(ImproperlyConfigured, match="control character"):
        env_lines("LETTER_SENDER")
    monkeypatch.setenv("LETTER_SENDER", "|".join("abcdefg"))
    with pytest.raises(ImproperlyConfigured, match="at most 6"):
        env_lines("LETTER_SENDER")
