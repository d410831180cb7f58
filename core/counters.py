"""Counters that every process adds to in the shared cache and /metrics reads back."""

from __future__ import annotations

from core import cache as shared_cache

FUNNEL_STEPS = ["gebruikersgegevens", "e-mailadres", "certificaatnaam", "wachtwoord", "voorwaarden"]
FUNNEL_EVENTS = ["entered", "completed"]
KINDS = ["personal", "system"]


def funnel_key(kind: str, step: str, event: str) -> str:
    return f"metrics:funnel:{kind}:{step}:{event}"


def count_funnel(kind: str, step: str, event: str) -> None:
    """Count a visitor entering or completing a wizard step (shared cache: all processes)."""
    try:
        shared_cache.count(funnel_key(kind, step, event))
    except Exception:  # metrics must never break the wizard
        return
