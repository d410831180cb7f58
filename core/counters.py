"""Counters that every process adds to in the shared cache and /metrics reads back."""

from __future__ import annotations

from core import cache as shared_cache

FUNNEL_STEPS = ["gebruikersgegevens", "e-mailadres", "certificaatnaam", "wachtwoord", "voorwaarden"]
FUNNEL_EVENTS = ["entered", "completed"]
KINDS = ["personal", "system"]


def funnel_key(kind: str, step: str, event: str) -> str:
    return f"metrics:funnel:{kind}:{step}:{event}"


def count_funnel(kind: str, *events: tuple[str, str]) -> None:
    """Count visitors entering or completing wizard steps, ``(step, event)`` pairs, in the
    shared cache (all processes) and one round trip."""
    try:
        shared_cache.count(*(funnel_key(kind, step, event) for step, event in events))
    except Exception:  # metrics must never break the wizard
        return
