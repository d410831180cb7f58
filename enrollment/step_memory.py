"""What the wizard remembers of a step between requests, besides its completed data.

Every step has its own URL and every POST ends in a redirect to a step's URL (Post/Redirect/
Get), so the browser's history holds only GETs: Back, Forward and a reload show a step as
it is now, never a stale POST answer. Two things must survive that redirect:

- a **draft**: the non-secret values typed into a step that was left without completing it
  (Back, the language switch, a refused submission), shown again as initial values;
- the **errors** of a refused submission, as the messages that were shown, so the page after
  the redirect says exactly what the POST found. They are shown once.

Both live in the wizard's session storage (``extra_data``), which never holds a secret: the
drafts are made with the wizard's own filter for secret fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.utils import ErrorDict, ErrorList
from formtools.wizard.storage.base import BaseStorage

DRAFTS = "drafts"
ERRORS = "errors"


def keep_draft(storage: BaseStorage, step: str, values: dict[str, list[str]]) -> None:
    drafts = storage.extra_data.setdefault(DRAFTS, {})
    drafts[step] = values
    storage.extra_data = storage.extra_data  # session storage saves on assignment


def draft(storage: BaseStorage, step: str) -> dict[str, list[str]] | None:
    drafts: dict[str, dict[str, list[str]]] = storage.extra_data.get(DRAFTS, {})
    return drafts.get(step)


def forget_draft(storage: BaseStorage, step: str) -> None:
    drafts = storage.extra_data.get(DRAFTS, {})
    if step in drafts:
        del drafts[step]
        storage.extra_data = storage.extra_data


def keep_errors(storage: BaseStorage, step: str, errors: Mapping[str, Iterable[Any]]) -> None:
    """The messages of a refused step (a form's ``errors``), in the language of this request."""
    storage.extra_data.setdefault(ERRORS, {})[step] = {
        field: [str(message) for message in messages] for field, messages in errors.items()
    }
    storage.extra_data = storage.extra_data


def take_errors(storage: BaseStorage, step: str) -> dict[str, list[str]] | None:
    pending = storage.extra_data.get(ERRORS, {})
    errors: dict[str, list[str]] | None = pending.pop(step, None)
    if errors is not None:
        storage.extra_data = storage.extra_data
    return errors


def show_errors(form: forms.Form, errors: dict[str, list[str]]) -> None:
    """Attach remembered errors to an unbound form, as if its submission had just failed."""
    shown = ErrorDict(renderer=form.renderer)
    for field, messages in errors.items():
        if field in form.fields or field == NON_FIELD_ERRORS:
            shown[field] = ErrorList(messages, renderer=form.renderer)
    form._errors = shown  # type: ignore[attr-defined]  # Django's own cache of errors


def initial_from(form: forms.Form, values: dict[str, Any]) -> dict[str, Any]:
    """A draft's posted values (``prefix-name`` → list) as a form's initial values."""
    initial: dict[str, Any] = {}
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        if key not in values:
            continue
        posted = values[key]
        if isinstance(field, forms.MultipleChoiceField):
            initial[name] = posted
        elif isinstance(field, forms.BooleanField):
            initial[name] = bool(posted) and posted[-1] not in ("", "off", "false", "0")
        else:
            initial[name] = posted[-1] if posted else ""
    return initial
