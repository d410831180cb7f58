"""Free text that admins type or import: one rule for every way in (imports no app).

Names, organisation names, e-mail addresses and AGB codes reach mail headers, PDF letters,
CSV reports and admin pages. A control character (NUL, tab, CR, LF, U+0085 NEXT LINE), a
format character (bidi overrides, zero-width joiners, soft hyphens) or a Unicode line or
paragraph separator can end a line or a header there, or make a name show something else
than it holds. The model fields below refuse them wherever a value enters (admin forms,
the CSV import, ``issue_holder``, ``full_clean``) with a message that names the field and
the character, and normalise what they keep to NFC (one name, however its accents were
typed) without whitespace at either end.

Whitespace at either end (a pasted trailing line break included) is trimmed, not refused:
what is stored then holds no such character, and Django's form fields trim it anyway.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.deconstruct import deconstructible
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

# Cc: controls (C0, DEL, C1 with U+0085); Cf: format characters; Zl/Zp: U+2028/U+2029;
# Cs: lone surrogates, which no database encoding stores.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})

# Controls have no Unicode name, only aliases, which unicodedata cannot look up backwards.
_CONTROL_NAMES = {
    0x00: "NULL",
    0x09: "CHARACTER TABULATION",
    0x0A: "LINE FEED",
    0x0B: "LINE TABULATION",
    0x0C: "FORM FEED",
    0x0D: "CARRIAGE RETURN",
    0x1B: "ESCAPE",
    0x7F: "DELETE",
    0x85: "NEXT LINE",
}


def first_forbidden(value: str) -> str | None:
    """The first character of ``value`` that free text may not hold, or None."""
    for char in value:
        if unicodedata.category(char) in FORBIDDEN_CATEGORIES:
            return char
    return None


def describe(char: str) -> str:
    """``U+2028 (LINE SEPARATOR)``: how a message names a character (it may be invisible)."""
    code = ord(char)
    name = _CONTROL_NAMES.get(code) or unicodedata.name(char, "") or "CONTROL CHARACTER"
    return f"U+{code:04X} ({name})"


def normalise(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


@deconstructible
class PlainTextValidator:
    """Refuses control, format and line/paragraph-separator characters, naming the field."""

    code = "forbidden_character"

    def __init__(self, label: str | Promise = "") -> None:
        self.label = label

    def __call__(self, value: Any) -> None:
        if not isinstance(value, str):
            return
        char = first_forbidden(value)
        if char is None:
            return
        raise ValidationError(
            _("%(field)s: the character %(char)s is not allowed."),
            code=self.code,
            params={"field": capfirst(str(self.label)), "char": describe(char)},
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlainTextValidator) and str(self.label) == str(other.label)


def _check_first(label: str | Promise, value: Any, empty_values: Any) -> None:
    # Alone and first: for "a\u2028@example.org" the e-mail validator's "not a valid
    # address" would only hide which character is the problem.
    if value not in empty_values:
        PlainTextValidator(label)(value)


class PlainTextFormField(forms.CharField):
    def run_validators(self, value: Any) -> None:
        _check_first(self.label or "", value, self.empty_values)
        super().run_validators(value)


class PlainTextEmailFormField(forms.EmailField):
    def run_validators(self, value: Any) -> None:
        _check_first(self.label or "", value, self.empty_values)
        super().run_validators(value)


class PlainTextField(models.CharField):
    """A CharField for free text: NFC, trimmed, no control or separator characters."""

    form_class: type[forms.CharField] = PlainTextFormField

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        return normalise(value) if isinstance(value, str) else value

    def run_validators(self, value: Any) -> None:
        _check_first(self.verbose_name, value, self.empty_values)
        super().run_validators(value)

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        return super().formfield(
            form_class=form_class or self.form_class,
            choices_form_class=choices_form_class,
            **kwargs,
        )


class PlainTextEmailField(PlainTextField, models.EmailField):
    """An e-mail address under the same rule (it becomes a mail header)."""

    form_class = PlainTextEmailFormField
