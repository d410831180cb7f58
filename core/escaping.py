"""Values baked into files that run elsewhere: one escaping function per target language.

The installers are programs that holders run on their own computers, so every value that
reaches one (portal name and URL, install code, certificate name, dates, PEM blocks) goes
through the function of its target here and nowhere else:

- ``sh_word``: a POSIX sh word. Plain text stays readable in single quotes; anything else is
  written as octal escapes that the script's own ``printf`` turns back into the text, so the
  script itself holds only characters that cannot end a line, a quoted string, a comment or a
  here-document.
- ``cmd_text``: text in a Windows ``.cmd`` file. cmd.exe has no quoting that survives ``%``,
  ``!`` (delayed expansion), ``^`` and the block parser alike, so only a safe alphabet is let
  through; anything else is refused (the values are restricted at their source, this is the
  last line).
- ``inf_string``: a quoted string of certreq's INF, itself echoed by the ``.cmd``.
- ``pem_block``: certificates as PEM, re-serialised from their DER so that nothing but the
  BEGIN/END lines and base64 can be in a here-document or an ``echo``.
- ``csv_cell``: a cell of a CSV the portal exports, which a spreadsheet must not run.
- ``pdf_text``: a line of a PDF letter (core fonts), which no value can break into lines.

Free text that only a comment would show (a holder's or organisation's name) is left out of
installers altogether.
"""

from __future__ import annotations

import re
import string
import unicodedata

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding


class UnsafeValue(ValueError):
    """A value that the target language cannot carry safely."""


# Characters that mean nothing to sh inside single quotes, nor to printf's format string.
_SH_PLAIN = frozenset(string.ascii_letters + string.digits + " ,._+:@/=-")


def sh_word(value: str) -> str:
    """A POSIX sh word that expands to ``value`` (trailing line breaks excepted).

    ``'Certificaatportaal'`` for plain text; ``"$(printf 'Zorgportaal \\047t Gooi')"`` for text
    with other characters, each UTF-8 byte of those written as a three-digit octal escape.
    """
    if "\x00" in value:
        raise UnsafeValue("a shell variable cannot hold NUL")
    if all(ch in _SH_PLAIN for ch in value):
        return f"'{value}'"
    encoded = "".join(
        ch if ch in _SH_PLAIN else "".join(f"\\{byte:03o}" for byte in ch.encode()) for ch in value
    )
    return f"\"$(printf '{encoded}')\""


# What cmd.exe passes through unchanged in `set "NAME=…"`, in `echo …` inside a `( … )`
# block and in a quoted argument: no % ! ^ & | < > ( ) and no line breaks. Double quotes
# only in pairs (the INF's quoted strings), so that quoting never ends on the wrong side.
# The comma and the accented letters of Latin-1 (not its two arithmetic signs) are for the installers'
# messages (enrollment.installer_messages): the .cmd switches the console to UTF-8
# (chcp 65001) before its first line with one, and each of their UTF-8 bytes is >= 0x80,
# so none can be read as one of cmd's ASCII metacharacters.
_CMD_SAFE = re.compile(r'\A[A-Za-z0-9 ._:/+=$\[\]",\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff-]*\Z')


def cmd_text(value: str) -> str:
    """Text for a Windows .cmd file, or UnsafeValue."""
    if not _CMD_SAFE.match(value) or value.count('"') % 2:
        raise UnsafeValue(f"not safe in a Windows .cmd file: {value[:80]!r}")
    if value.strip().lower() in {"on", "off"}:
        # `echo ON` and `echo OFF` would switch echoing instead of printing the text.
        raise UnsafeValue(f"echo would not print this line: {value!r}")
    return value


def inf_string(value: str) -> str:
    """A quoted INF string value: certreq doubles a quote inside one."""
    if any(ch in value for ch in "\r\n\x00\x85\u2028\u2029"):
        raise UnsafeValue("an INF string cannot span lines")
    return '"' + value.replace('"', '""') + '"'


def pem_block(pem: str) -> str:
    """The certificates of ``pem`` as PEM again, from their DER: comments and text dropped."""
    try:
        certificates = x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        raise UnsafeValue("not a PEM certificate") from None
    return "".join(c.public_bytes(Encoding.PEM).decode("ascii") for c in certificates)


# A spreadsheet reads a cell that starts with one of these as a formula (or, for tab and
# carriage return, Excel drops them and reads what follows); OWASP's "CSV injection".
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: a leading apostrophe before a formula start.

    The csv module quotes separators, quotes and line breaks; this is about what a
    spreadsheet then does with the cell. Cells of every CSV the portal exports pass here.
    """
    text = str(value)
    if text.lstrip(" ").startswith(_CSV_FORMULA_START):
        return "'" + text
    return text


# Letters the PDF core fonts (Latin-1) lack, without a decomposition to one they have.
_PDF_TRANSLITERATE = str.maketrans(
    {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe", "\u0131": "i"}
)


def pdf_text(value: str, *, max_length: int = 200) -> str:
    """Text for one line of a PDF letter drawn with the core fonts (Latin-1).

    Line breaks, tabs and other control, format or separator characters become one space,
    so a value can never add a line to an address in an envelope's window, nor reorder text
    (bidi controls); letters outside Latin-1 lose their accents, never the letter; what is
    left over is "?"; the text is cut at ``max_length`` with an ellipsis. The PDF string
    syntax itself (parentheses, backslashes) is the PDF library's to escape.
    """
    text = unicodedata.normalize("NFC", str(value))
    text = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"} else ch
        for ch in text
    )
    text = " ".join(text.split())
    if not all(ord(ch) < 256 for ch in text):
        decomposed = unicodedata.normalize("NFKD", text.translate(_PDF_TRANSLITERATE))
        kept = (ch for ch in decomposed if not unicodedata.combining(ch))
        text = unicodedata.normalize("NFC", "".join(ch if ord(ch) < 256 else "?" for ch in kept))
    if len(text) > max_length:
        text = text[: max_length - 3].rstrip() + "..."
    return text
