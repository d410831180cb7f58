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

Free text that only a comment would show (a holder's or organisation's name) is left out of
installers altogether.
"""

from __future__ import annotations

import re
import string

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
_CMD_SAFE = re.compile(r'\A[A-Za-z0-9 ._:/+=$\[\]"-]*\Z')


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
