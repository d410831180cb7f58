"""PIN letters: one A4 page per holder, for a window envelope, for printing and post.

The layout follows the Dutch window envelope (EA5/6, folded in three): the address window is
22 mm from the left and 50 mm from the top, with the sender's return line just above the
address; fold marks at a third and two thirds of the page. The page names the sender
(``LETTER_SENDER``), the date, the organisation's postal address, the user number and PIN,
what they are for, until when the PIN is valid, and what to do if it is lost or the holder
has left (``LETTER_HELPDESK``). Letters are Dutch, as the contact persons' mails are, with
a summary in English.

Every value that is not the letter's own text (names, addresses, settings) reaches the PDF
through ``core.escaping.pdf_text``, which keeps it on its one line, and is then fitted to its
width. The PDF is made in memory and handed straight to the admin's browser; the PIN is in
it and in the handover (encrypted, for a short while) only.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format
from fpdf import FPDF

from core.escaping import pdf_text
from enrollment.models import ActivationCode, Holder

# Millimetres on A4 (210 by 297).
WINDOW_LEFT, WINDOW_TOP, WINDOW_WIDTH = 22.0, 50.0, 85.0
LEFT, RIGHT = 22.0, 190.0
LOGO = Path(settings.BASE_DIR) / "static" / "favicon.svg"


_WIDTHS: dict[tuple[str, str, float, str], float] = {}


def _width(pdf: FPDF, text: str) -> float:
    """fpdf's string width, remembered: the same words recur on every letter."""
    key = (pdf.font_family, pdf.font_style, pdf.font_size_pt, text)
    if key not in _WIDTHS:
        if len(_WIDTHS) > 50_000:
            _WIDTHS.clear()
        _WIDTHS[key] = pdf.get_string_width(text)
    return _WIDTHS[key]


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """``text`` cut (with "...") until it fits ``width`` mm in the current font."""
    if _width(pdf, text) <= width:
        return text
    while text and pdf.get_string_width(text + "...") > width:
        text = text[:-1]
    return text.rstrip() + "..."


def _line(pdf: FPDF, x: float, width: float, height: float, value: str) -> None:
    pdf.set_x(x)
    pdf.cell(width, height, _fit(pdf, pdf_text(value), width), new_x="LMARGIN", new_y="NEXT")


def _paragraph(pdf: FPDF, text: str, height: float, width: float = RIGHT - LEFT) -> None:
    """Left-aligned text wrapped at spaces; each word measured once.

    fpdf's multi_cell measures every line again per added character, which made a letter
    take 50 ms; a CSV import of 5,000 holders prints 5,000 letters.
    """
    space = _width(pdf, " ")
    line: list[str] = []
    used = 0.0
    for word in text.split():
        word_width = _width(pdf, word)
        if line and used + space + word_width > width:
            pdf.set_x(LEFT)
            pdf.cell(width, height, " ".join(line), new_x="LMARGIN", new_y="NEXT")
            line, used = [], 0.0
        used += (space if line else 0.0) + word_width
        line.append(word)
    if line:
        pdf.set_x(LEFT)
        pdf.cell(width, height, " ".join(line), new_x="LMARGIN", new_y="NEXT")


def _valid_until(holders: list[Holder]) -> dict[int, datetime]:
    """The expiry of each holder's current PIN, in one query."""
    codes = ActivationCode.objects.filter(
        holder__in=holders, used_at=None, revoked_at=None
    ).values_list("holder_id", "expires_at")
    return dict(codes)


@cache
def _logo_usable() -> bool:
    """Whether the portal's logo can be drawn (tried once per process on a scratch page)."""
    scratch = FPDF()
    scratch.add_page()
    try:
        scratch.image(str(LOGO), w=10)
    except Exception:  # a logo that cannot be drawn is left out, not fatal
        return False
    return True


def pin_letters_pdf(issued: list[tuple[Holder, str]]) -> bytes:
    """One PDF with a letter per (holder, PIN), in the given order."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_title(pdf_text(f"{settings.PORTAL_NAME} pincodes"))
    pdf.set_creator(pdf_text(settings.PORTAL_NAME))
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(LEFT, 15, 210 - RIGHT)
    expiries = _valid_until([holder for holder, _pin in issued])
    with translation.override("nl"):
        today = date_format(timezone.localdate(), "j F Y")
        for holder, pin in issued:
            expires = expiries.get(holder.pk)
            until = date_format(timezone.localtime(expires), "j F Y") if expires else ""
            _letter(pdf, holder, pin, today, until)
    return bytes(pdf.output())


def _letter(pdf: FPDF, holder: Holder, pin: str, today: str, until: str) -> None:
    pdf.add_page()
    sender = settings.LETTER_SENDER or [settings.PORTAL_NAME]
    helpdesk = settings.LETTER_HELPDESK or f"de beheerder van {settings.PORTAL_NAME}"
    name = pdf_text(holder.display_name)
    organisation = holder.organisation

    # Fold marks (a third and two thirds of the page), in the left margin.
    pdf.set_draw_color(150, 150, 150)
    for y in (99.0, 198.0):
        pdf.line(4, y, 9, y)

    # Letterhead: logo and the sender, top right.
    if _logo_usable():
        pdf.image(str(LOGO), x=RIGHT - 70, y=15, w=9)
    pdf.set_y(15)
    pdf.set_font("Helvetica", style="B", size=11)
    _line(pdf, RIGHT - 58, 58, 5, sender[0])
    pdf.set_font("Helvetica", size=9)
    for line in sender[1:]:
        _line(pdf, RIGHT - 58, 58, 4.5, line)

    # The window: return line, then the addressee and the organisation's postal address.
    pdf.set_y(WINDOW_TOP - 5)
    pdf.set_font("Helvetica", size=7)
    _line(pdf, WINDOW_LEFT, WINDOW_WIDTH, 4, " · ".join(sender))
    pdf.set_y(WINDOW_TOP)
    pdf.set_font("Helvetica", size=11)
    _line(pdf, WINDOW_LEFT, WINDOW_WIDTH, 5.5, organisation.name)
    if holder.kind == "personal":
        _line(pdf, WINDOW_LEFT, WINDOW_WIDTH, 5.5, f"t.a.v. {holder.display_name}")
    else:
        _line(pdf, WINDOW_LEFT, WINDOW_WIDTH, 5.5, "t.a.v. de contactpersoon")
    for line in organisation.address_lines():
        _line(pdf, WINDOW_LEFT, WINDOW_WIDTH, 5.5, line)

    # Date and subject.
    pdf.set_y(105)
    pdf.set_font("Helvetica", size=10)
    _line(pdf, LEFT, RIGHT - LEFT, 5, f"Datum: {today}")
    _line(pdf, LEFT, RIGHT - LEFT, 5, f"Betreft: pincode voor {holder.display_name}")
    pdf.ln(4)
    pdf.set_font("Helvetica", style="B", size=14)
    _line(pdf, LEFT, RIGHT - LEFT, 8, f"Uw pincode voor {settings.PORTAL_NAME}")
    pdf.ln(2)

    portal = pdf_text(settings.PORTAL_NAME)
    enroll_url = pdf_text(f"{settings.PORTAL_URL}/enroll/")
    kind = "persoonlijk certificaat" if holder.kind == "personal" else "systeemcertificaat"
    pdf.set_font("Helvetica", size=10.5)
    _paragraph(
        pdf,
        f"Met het gebruikersnummer en de pincode hieronder installeert {name} een {kind} "
        f"van {portal}: open {enroll_url} en volg de stappen. Het gebruikersnummer is ook "
        f"per e-mail naar de contactpersoon gestuurd.",
        5.5,
    )
    pdf.ln(4)

    # The two numbers to type, large and monospaced.
    top = pdf.get_y()
    pdf.set_fill_color(240, 243, 247)
    pdf.rect(LEFT, top, RIGHT - LEFT, 26, style="F")
    for offset, label, value in ((3, "Gebruikersnummer", holder.user_number), (14, "Pincode", pin)):
        pdf.set_xy(LEFT + 4, top + offset)
        pdf.set_font("Helvetica", size=11)
        pdf.cell(50, 9, label)
        pdf.set_font("Courier", style="B", size=18)
        pdf.cell(0, 9, pdf_text(value, max_length=20))
    pdf.set_y(top + 30)

    pdf.set_font("Helvetica", size=10.5)
    validity = f"geldig tot en met {until}" if until else "beperkt geldig"
    paragraphs = [
        f"De pincode is eenmalig te gebruiken en {validity}. Na {settings.PIN_MAX_ATTEMPTS} "
        "verkeerde pogingen wordt het gebruikersnummer geblokkeerd.",
        f"Pincode kwijt, verlopen of geblokkeerd? Vraag een nieuwe pincode aan bij "
        f"{pdf_text(helpdesk)}, met het gebruikersnummer. De oude pincode vervalt dan.",
        f"Is {name} uit dienst, of is het certificaat niet meer nodig? Laat het "
        f"gebruikersnummer blokkeren via {pdf_text(helpdesk)}; de contactpersoon kan dat ook "
        f"zelf na het inloggen op {pdf_text(settings.PORTAL_URL)}/mijn/. Gebruik deze pincode "
        "dan niet meer.",
        "Bewaar deze brief niet bij de computer en vernietig hem nadat het certificaat is "
        "geïnstalleerd.",
    ]
    for paragraph in paragraphs:
        _paragraph(pdf, paragraph, 5.5)
        pdf.ln(2)

    pdf.ln(2)
    pdf.set_font("Helvetica", style="I", size=8.5)
    _paragraph(
        pdf,
        f"In English: with the user number and the one-time PIN above, {name} installs a "
        f"certificate of {portal} at {enroll_url}. The PIN is valid "
        f"{'until ' + until if until else 'for a limited time'}. If it is lost, or the holder "
        f"has left, contact {pdf_text(settings.LETTER_HELPDESK or 'the administrator')}.",
        4.3,
    )

    pdf.set_y(280)
    pdf.set_font("Helvetica", size=7.5)
    pdf.set_text_color(90, 90, 90)
    _line(pdf, LEFT, RIGHT - LEFT, 4, f"{settings.PORTAL_NAME} · {settings.PORTAL_URL}")
    pdf.set_text_color(0, 0, 0)
