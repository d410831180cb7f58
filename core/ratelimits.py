"""Rate limits on the shared cache (Redis), with a local stand-in for reads while it is down.

django-ratelimit counts in the shared cache, so every web process sees the same counts. When
Redis does not answer it fails closed: the Redis error reaches core.outages, which answers
503 with Retry-After. That stays right for whatever takes a secret (a PIN, a password) or
makes something (a CSR submission): a count per process would multiply an attacker's
attempts by the number of processes, and a submission is simply sent again after the outage.

Reads whose data is in PostgreSQL (the installers' status and certificate requests) need
not stop with Redis. With ``when_down=LOCAL`` they are counted in this process instead, in a
fixed window of the same rate: neither open (no limit at all) nor closed (503). Each web
process then allows the full rate, so N processes allow N times as much; for reads behind a
256-bit install code that is an acceptable price for installers that keep working.

An outage is noticed by the first call that fails. For ``PROBE_SECONDS`` after that no call
asks Redis (a hung Redis would cost every request a socket timeout); then one call asks
again, and the first answer ends the outage. Both ends are logged once, not per request.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import math
import re
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import ngettext
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)

PROBE_SECONDS = 2.0
# Local windows kept before the expired ones are dropped (each is a few hundred bytes).
PRUNE_AT = 10_000
_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class WhenDown(enum.Enum):
    """What a limit does while the shared cache does not answer."""

    REFUSE = "refuse"  # raise the Redis error: the request is answered 503 (core.outages)
    LOCAL = "local"  # count in this process, at the same rate


REFUSE, LOCAL = WhenDown.REFUSE, WhenDown.LOCAL


class SharedCacheDown(redis.ConnectionError):
    """Redis failed a moment ago and is not asked again until the next probe."""


@dataclass(frozen=True)
class Verdict:
    limited: bool
    # Seconds until the window ends: what a refused client should wait (Retry-After).
    retry_after: int

    def wait_message(self) -> str:
        """What a refused person is told, in whole minutes rounded up."""
        minutes = max(1, math.ceil(self.retry_after / 60))
        return ngettext(
            "Too many attempts. Try again in %(minutes)d minute.",
            "Too many attempts. Try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"120/m"`` → (120, 60): django-ratelimit's notation, as the settings use it."""
    match = _RATE.match(rate.strip())
    if match is None:
        raise ValueError(f"not a rate such as 10/m or 100/5m: {rate!r}")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _PERIODS[unit]


class LocalWindows:
    """Fixed-window counters of this process, for use while the shared cache is down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str, str], tuple[float, int]] = {}

    def hit(self, group: str, value: str, rate: str) -> Verdict:
        limit, period = parse_rate(rate)
        now = time.monotonic()
        ends = now - now % period + period
        slot = (group, rate, value)
        with self._lock:
            if len(self._windows) >= PRUNE_AT:
                self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
            window_end, count = self._windows.get(slot, (ends, 0))
            if window_end <= now:
                window_end, count = ends, 0
            count += 1
            self._windows[slot] = (window_end, count)
        return Verdict(count > limit, max(1, math.ceil(window_end - now)))

    def clear(self) -> None:
        with self._lock:
            self._windows.clear()


class SharedCacheState:
    """Whether the shared cache is answering, as this process last saw it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self._next_probe = 0.0

    def may_ask(self) -> bool:
        """True while up; while down, True for one caller per PROBE_SECONDS (the probe)."""
        with self._lock:
            if self.down_since is None:
                return True
            now = time.monotonic()
            if now < self._next_probe:
                return False
            self._next_probe = now + PROBE_SECONDS
            return True

    def failed(self, error: Exception) -> None:
        with self._lock:
            now = time.monotonic()
            self._next_probe = now + PROBE_SECONDS
            if self.down_since is not None:
                return
            self.down_since = now
        logger.warning(
            "shared cache %s does not answer (%s): reads are rate-limited per process, "
            "submissions answer 503 until it is back",
            self.name,
            type(error).__name__,
        )

    def answered(self) -> None:
        with self._lock:
            if self.down_since is None:
                return
            seconds, self.down_since = time.monotonic() - self.down_since, None
        logger.info("shared cache %s answers again after %.0f s", self.name, seconds)


_states: dict[str, SharedCacheState] = {}
_states_lock = threading.Lock()
local_windows = LocalWindows()


def shared_cache_state() -> SharedCacheState:
    """The state of the cache django-ratelimit uses; a new location starts out as up."""
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    location = str(settings.CACHES[alias].get("LOCATION", alias))
    with _states_lock:
        state = _states.get(location)
        if state is None:
            name = f"{alias} ({hashlib.sha256(location.encode()).hexdigest()[:8]})"
            state = _states[location] = SharedCacheState(name)
        return state


def check(
    request: HttpRequest, *, group: str, value: str, rate: str, when_down: WhenDown
) -> Verdict:
    """Count this request against ``rate`` for ``value`` in ``group``; is it over the limit?"""
    state = shared_cache_state()
    if state.may_ask():
        try:
            usage = get_usage(
                request, group=group, key=lambda _group, _request: value, rate=rate, increment=True
            )
        except redis.RedisError as error:
            state.failed(error)
            if when_down is REFUSE:
                raise
        else:
            state.answered()
            if usage is None:  # rate limiting is switched off (RATELIMIT_ENABLE)
                return Verdict(False, 0)
            return Verdict(bool(usage["should_limit"]), max(1, int(usage["time_left"])))
    elif when_down is REFUSE:
        raise SharedCacheDown("the shared cache failed moments ago")
    return local_windows.hit(group, value, rate)
