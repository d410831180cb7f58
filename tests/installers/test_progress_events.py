"""Long polling: a waiting status request wakes on the worker's announcement, or re-reads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from core import progress_events


@pytest.fixture(autouse=True)
def _fresh_client() -> Iterator[None]:
    progress_events._publisher.cache_clear()
    yield
    progress_events._publisher.cache_clear()


def change_after(delay: float, *, announce: str | None = None) -> threading.Event:
    changed = threading.Event()

    def later() -> None:
        time.sleep(delay)
        changed.set()
        if announce is not None:
            progress_events.announce((announce, "issued"))

    threading.Thread(target=later, daemon=True).start()
    return changed


def test_an_announcement_wakes_the_waiter_before_its_recheck(
    redis_url: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REDIS_URL = redis_url
    monkeypatch.setattr(progress_events, "RECHECK_SECONDS", 30.0)
    changed = change_after(0.3, announce="4711")
    started = time.monotonic()
    progress_events.wait_for_change("4711", changed.is_set, 20)
    assert changed.is_set()
    assert time.monotonic() - started < 10, (
        "woke by the recheck or the deadline, not the announcement"
    )


def test_an_announcement_of_a_progress_waited_through_does_not_wake_the_waiter(
    redis_url: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REDIS_URL = redis_url
    monkeypatch.setattr(progress_events, "RECHECK_SECONDS", 30.0)
    checks: list[float] = []
    started = time.monotonic()

    def changed() -> bool:
        checks.append(time.monotonic() - started)
        return len(checks) > 1

    def worker() -> None:
        time.sleep(0.3)
        progress_events.announce(("4712", "signing"))  # waited through: no re-read
        time.sleep(0.3)
        progress_events.announce(("4712", "issued"))

    threading.Thread(target=worker, daemon=True).start()
    progress_events.wait_for_change("4712", changed, 20, waiting_on={"csr_received", "signing"})
    assert len(checks) == 2
    assert 0.5 < checks[1] < 10, "woke on the signing announcement or not on the issued one"


def test_without_redis_the_waiter_rereads_the_database(settings: Any) -> None:
    settings.REDIS_URL = ""
    changed = change_after(0.3)
    progress_events.wait_for_change("1", changed.is_set, 20)
    assert changed.is_set()


def test_an_unreachable_redis_degrades_to_rereading(settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # discard port: nothing listens
    changed = change_after(0.3, announce="1")
    progress_events.wait_for_change("1", changed.is_set, 20)
    assert changed.is_set()


def test_the_wait_ends_at_the_deadline_without_a_change(settings: Any) -> None:
    settings.REDIS_URL = ""
    started = time.monotonic()
    progress_events.wait_for_change("1", lambda: False, 1)
    # Not at once (it waited), and not much after the deadline (it did not hang on).
    assert 1 <= time.monotonic() - started < 3


def test_only_a_few_requests_per_process_may_wait_at_once(settings: Any) -> None:
    settings.REDIS_URL = ""
    settings.API_STATUS_WAITERS = 1
    release = threading.Event()
    first = threading.Thread(
        target=progress_events.wait_for_change, args=("1", release.is_set, 20), daemon=True
    )
    first.start()
    time.sleep(0.2)
    asked: list[float] = []

    def changed() -> bool:
        asked.append(time.monotonic())
        return False

    started = time.monotonic()
    progress_events.wait_for_change("2", changed, 20)
    # Answered at once, with one read of the progress: no second waiter was let in.
    assert len(asked) == 1 and time.monotonic() - started < 1
    release.set()
    first.join(5)
    assert not first.is_alive()
