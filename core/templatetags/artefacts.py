"""Template filters for generated files: ``{% load artefacts %}``, then one filter per target.

Each filter is the target's function in core.escaping and marks its result safe, so the
template's HTML autoescaping (which stays on) leaves it alone. A variable without one of these
filters is HTML-escaped instead, which no script wants: tests/installers check that every
variable of an installer template has its target's filter.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from core import escaping

register = template.Library()


@register.filter
def sh(value: object) -> SafeString:
    return mark_safe(escaping.sh_word(str(value)))  # noqa: S308 - escaped for sh just above


@register.filter
def cmd(value: object) -> SafeString:
    return mark_safe(escaping.cmd_text(str(value)))  # noqa: S308 - refused unless cmd-safe


@register.filter
def pem(value: object) -> SafeString:
    return mark_safe(escaping.pem_block(str(value)))  # noqa: S308 - re-serialised from DER
