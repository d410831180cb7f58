"""The Dutch and English message catalogues are complete."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale"


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []
    assert len(catalogue) > 100


def test_both_catalogues_have_the_same_messages() -> None:
    nl = {e.msgid for e in polib.pofile(str(LOCALE / "nl" / "LC_MESSAGES" / "django.po"))}
    en = {e.msgid for e in polib.pofile(str(LOCALE / "en" / "LC_MESSAGES" / "django.po"))}
    assert nl == en


def test_the_seeds_labels_are_in_the_dutch_catalogue() -> None:
    translations = {
        e.msgstr for e in polib.pofile(str(LOCALE / "nl" / "LC_MESSAGES" / "django.po"))
    }
    for label in [
        "Gebruikersnummer",
        "Pincode",
        "E-mailadres",
        "Herhaal e-mailadres",
        "Certificaatnaam",
        "Wachtwoord",
        "Bevestig wachtwoord",
        "Ik ga akkoord met bovenstaande voorwaarden.",
        "Neem de cijfers in onderstaande afbeelding over",
        "Naam gebruiker",
    ]:
        assert label in translations, label
