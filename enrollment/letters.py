"""PIN letters: one page per holder with the user number and the PIN, for printing and post.

The PDF is made in memory and handed straight to the admin's browser; the PIN is in it and
nowhere else (the database keeps only its hash). A message-box holder's PIN goes by mail
instead (``Holder.pin_mail``, through the encrypted outbox).
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF

from enrollment.models import Holder

# Letters that have no Latin-1 form and no decomposition to one.
_TRANSLITERATE = str.maketrans(
    {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe", "\u0131": "i"}
)


def _latin1(text: str) -> str:
    """The PDF core fonts are Latin-1: other letters lose their accents, never the letter."""
    if all(ord(ch) < 256 for ch in text):
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    kept = (ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch if ord(ch) < 256 else "?" for ch in kept)


def pin_letters_pdf(issued: list[tuple[Holder, str]]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"{settings.PORTAL_NAME} pincodes")
    pdf.set_auto_page_break(auto=False)
    valid_until = (timezone.localdate() + timedelta(days=settings.PIN_VALIDITY_DAYS)).strftime(
        "%d-%m-%Y"
    )
    for holder, pin in issued:
        pdf.add_page()
        pdf.set_font("Helvetica", size=10)
        pdf.set_xy(20, 50)
        pdf.multi_cell(
            90,
            5,
            _latin1(
                f"Aan de contactpersoon van\n{holder.organisation.name}\nBetreft: {holder.display_name}"
            ),
        )
        pdf.set_xy(20, 100)
        pdf.set_font("Helvetica", style="B", size=14)
        pdf.cell(
            0, 8, _latin1(f"Uw pincode voor {settings.PORTAL_NAME}"), new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_font("Helvetica", size=11)
        pdf.set_x(20)
        pdf.multi_cell(
            170,
            6,
            _latin1(
                f"Met deze pincode en het gebruikersnummer installeert {holder.display_name} een "
                f"{holder.get_kind_display()} via {settings.PORTAL_URL}/enroll/. "
                f"Het gebruikersnummer is ook per e-mail verstuurd. De pincode is eenmalig te gebruiken "
                f"en geldig tot {valid_until}. Bewaar deze brief niet bij de computer."
            ),
        )
        pdf.set_xy(20, 150)
        pdf.set_font("Helvetica", size=11)
        pdf.cell(50, 10, "Gebruikersnummer")
        pdf.set_font("Courier", style="B", size=16)
        pdf.cell(0, 10, holder.user_number, new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(20)
        pdf.set_font("Helvetica", size=11)
        pdf.cell(50, 10, "Pincode")
        pdf.set_font("Courier", style="B", size=16)
        pdf.cell(0, 10, pin, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
