"""Rate limits while the shared cache is down: reads count locally, submissions are refused."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.core.cache import caches
from django.test import RequestFactory

from core import ratelimits
from core.ratelimits import LOCAL, REFUSE, LocalWindows, SharedCacheDown, check, parse_rate

# Nothing listens on the discard port: every Redis call is refused at once.
DEAD_REDIS = "redis://127.0.0.1:9/0"


@pytest.fixture
def redis_down(settings: Any) -> Iterator[None]:
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        }
    }
    ratelimits._states.pop(DEAD_REDIS, None)
    ratelimits.local_windows.clear()
    yield
    ratelimits._states.pop(DEAD_REDIS, None)
    ratelimits.local_windows.clear()
    caches["default"].close()


def read(group: str = "test.read", value: str = "code-1", rate: str = "3/m") -> Any:
    request = RequestFactory().get("/api/v1/status")
    return check(request, group=group, value=value, rate=rate, when_down=LOCAL)


def submission(rate: str = "3/m") -> Any:
    request = RequestFactory().post("/api/v1/csr")
    return check(request, group="test.submit", value="code-1", rate=rate, when_down=REFUSE)


def test_rates_are_read_in_django_ratelimits_notation() -> None:
    assert parse_rate("120/m") == (120, 60)
    assert parse_rate("20/10m") == (20, 600)
    assert parse_rate("5/s") == (5, 1)
    with pytest.raises(ValueError):
        parse_rate("lots")


def test_a_local_window_limits_at_the_rate_and_says_when_it_ends() -> None:
    windows = LocalWindows()
    verdicts = [windows.hit("g", "v", "2/m") for _ in range(3)]
    assert [v.limited for v in verdicts] == [False, False, True]
    assert 1 <= verdicts[2].retry_after <= 60
    # Another value, group or rate has a window of its own.
    assert not windows.hit("g", "other", "2/m").limited
    assert not windows.hit("h", "v", "2/m").limited


def test_a_local_window_starts_again_when_it_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(ratelimits.time, "monotonic", lambda: now[0])
    windows = LocalWindows()
    assert [windows.hit("g", "v", "1/s").limited for _ in range(2)] == [False, True]
    now[0] += 1.0
    assert not windows.hit("g", "v", "1/s").limited


@pytest.mark.usefixtures("redis_down")
def test_reads_are_limited_locally_while_redis_is_down() -> None:
    verdicts = [read() for _ in range(4)]
    assert [v.limited for v in verdicts] == [False, False, False, True]
    assert 1 <= verdicts[3].retry_after <= 60


@pytest.mark.usefixtures("redis_down")
def test_submissions_are_refused_while_redis_is_down() -> None:
    with pytest.raises(redis.ConnectionError):
        submission()
    # Until the next probe Redis is not even asked.
    with pytest.raises(SharedCacheDown):
        submission()


@pytest.mark.usefixtures("redis_down")
def test_after_the_first_failure_reads_do_not_wait_for_redis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []
    original = ratelimits.get_usage

    def counting(*args: Any, **kwargs: Any) -> Any:
        asked.append("redis")
        return original(*args, **kwargs)

    monkeypatch.setattr(ratelimits, "get_usage", counting)
    for _ in range(5):
        read(rate="100/m")
    assert asked == ["redis"]


@pytest.mark.usefixtures("redis_down")
def test_redis_is_asked_again_after_the_probe_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [5000.0]
    monkeypatch.setattr(ratelimits.time, "monotonic", lambda: now[0])
    read()
    assert ratelimits.shared_cache_state().down_since == 5000.0
    now[0] += ratelimits.PROBE_SECONDS
    with pytest.raises(redis.ConnectionError):  # asked, and still down
        submission()


@pytest.mark.usefixtures("redis_down")
def test_the_fallback_is_logged_once_per_outage(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="core.ratelimits"):
        for _ in range(5):
            read(rate="100/m")
    records = [r for r in caplog.records if r.name == "core.ratelimits"]
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    assert "per process" in records[0].getMessage()
    assert "127.0.0.1:9" not in records[0].getMessage()  # no address (or password) in logs


def test_with_a_working_cache_the_shared_count_decides(settings: Any) -> None:
    caches["default"].clear()
    ratelimits.local_windows.clear()
    verdicts = [read(group="test.shared", rate="2/m") for _ in range(3)]
    assert [v.limited for v in verdicts] == [False, False, True]
    # Counted in the cache (shared by every process), not in this process.
    ratelimits.local_windows.clear()
    assert read(group="test.shared", rate="2/m").limited
