"""Long polling of an installation's progress: the worker announces, a waiting request wakes.

An installer (or the step-7 page) asks ``/api/v1/status?wait=10``: instead of polling every
second, the request returns as soon as the progress changes. After each commit that changes
an order, the worker publishes the new progress on a Redis channel per topic (for the RA:
an enrollment's public id). Each web process holds one subscription to all those channels
(a listener thread) and wakes the requests waiting on that topic, unless the new progress
is one they keep waiting through (an installer waiting for its certificate sleeps through
"signing"). A waiting request also re-reads the database every second, so a lost
announcement (or no Redis at all, as under ``make run``) costs at most a second, never a
missed change.

While Redis is down the waits go on: a waiter then re-reads the database every
``POLL_WITHOUT_REDIS_SECONDS``, and the listener subscribes again (backing off to
``RESUBSCRIBE_MAX_SECONDS``) until Redis is back. The outage is logged once when the
subscription is lost and once when it is made again.

A waiting request holds a web thread, so each process lets only a few wait at once
(``API_STATUS_WAITERS``); the rest are answered at once and poll as before.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 1.0
# Without a subscription nothing wakes a waiter: the database is all it has.
POLL_WITHOUT_REDIS_SECONDS = 1.0
RESUBSCRIBE_MAX_SECONDS = 5.0
CHANNEL_PREFIX = "portal:progress:"


@cache
def _publisher(url: str) -> redis.Redis:
    # One connection pool per process; short timeouts so that a hung Redis costs the
    # announcement, not the task.
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1)


def announce(*changes: tuple[str, str]) -> None:
    """Tell the requests waiting on these topics their new progress (after the commit).

    ``changes`` are ``(topic, progress)`` pairs, sent in one round trip; a topic is the
    caller's name for what progresses (the RA uses an enrollment's public id).
    """
    if not settings.REDIS_URL or not changes:
        return
    try:
        with _publisher(settings.REDIS_URL).pipeline(transaction=False) as pipeline:
            for topic, progress in changes:
                pipeline.publish(f"{CHANNEL_PREFIX}{topic}", progress.encode())
            pipeline.execute()
    except redis.RedisError:
        logger.info("could not announce %d progress changes; waiters re-read", len(changes))


@dataclass(eq=False)
class _Waiter:
    topic: str
    waiting_on: Collection[str]
    woken: threading.Event = field(default_factory=threading.Event)


class _Listener:
    """This process's one subscription to every topic's channel."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._lock = threading.Lock()
        self._waiters: dict[str, list[_Waiter]] = {}
        self.subscribed = threading.Event()
        threading.Thread(target=self._listen, name="progress-listener", daemon=True).start()

    def add(self, topic: str, waiting_on: Collection[str]) -> _Waiter:
        waiter = _Waiter(topic, waiting_on)
        with self._lock:
            self._waiters.setdefault(topic, []).append(waiter)
        return waiter

    def remove(self, waiter: _Waiter) -> None:
        with self._lock:
            waiters = self._waiters.get(waiter.topic, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiters.pop(waiter.topic, None)

    def deliver(self, channel: bytes, progress: bytes) -> None:
        topic = channel.decode(errors="replace").removeprefix(CHANNEL_PREFIX)
        news = progress.decode(errors="replace")
        with self._lock:
            waiters = list(self._waiters.get(topic, ()))
        for waiter in waiters:
            if news not in waiter.waiting_on:
                waiter.woken.set()

    def _listen(self) -> None:
        backoff = 0.0
        lost_at: float | None = None
        while True:
            pubsub = None
            try:
                client = redis.Redis.from_url(
                    self._url, socket_connect_timeout=1, health_check_interval=30
                )
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
                self.subscribed.set()
                backoff = 0.0
                if lost_at is not None:
                    logger.info(
                        "progress listener subscribed again after %.0f s",
                        time.monotonic() - lost_at,
                    )
                    lost_at = None
                while True:
                    message = pubsub.get_message(timeout=30)
                    if message is not None and message["type"] == "pmessage":
                        self.deliver(message["channel"], message["data"])
            except Exception as error:
                # Redis restarts or is unreachable: waiters re-read the database meanwhile.
                self.subscribed.clear()
                if lost_at is None:
                    lost_at = time.monotonic()
                    logger.warning(
                        "progress listener lost Redis (%s); long polls read the database "
                        "every %.0f s until it is back",
                        type(error).__name__,
                        POLL_WITHOUT_REDIS_SECONDS,
                    )
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        pubsub.close()
                backoff = min(RESUBSCRIBE_MAX_SECONDS, max(0.5, backoff * 2))
                time.sleep(backoff)


_listeners: dict[str, _Listener] = {}
_starting = threading.Lock()


def _listener() -> _Listener | None:
    url = settings.REDIS_URL
    if not url:
        return None
    with _starting:
        listener = _listeners.get(url)
        if listener is None:
            listener = _listeners[url] = _Listener(url)
            # The first waiters of a process should not miss an announcement while the
            # subscription is still being made (if Redis is down they re-read meanwhile).
            listener.subscribed.wait(0.5)
    return listener


@cache
def _slots(count: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(count)


def wait_for_change(
    topic: str,
    changed: Callable[[], bool],
    seconds: float,
    *,
    waiting_on: Collection[str] = (),
) -> None:
    """Return when ``changed()`` is true or after ``seconds``, whichever comes first.

    ``changed`` is asked at least once, so the caller can answer with what it last read:
    at once when there is nothing to wait for or no waiting slot is free; otherwise after
    the waiter is registered (so no announcement falls between the two), on every
    announcement of a progress not in ``waiting_on``, and every second.
    """
    waiters = settings.API_STATUS_WAITERS
    if seconds <= 0 or waiters <= 0 or not _slots(waiters).acquire(blocking=False):
        changed()
        return
    deadline = time.monotonic() + seconds
    listener = _listener()
    waiter = listener.add(topic, waiting_on) if listener is not None else None
    try:
        while not changed():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if listener is None or waiter is None:
                time.sleep(min(0.25, remaining))
                continue
            subscribed = listener.subscribed.is_set()
            interval = RECHECK_SECONDS if subscribed else POLL_WITHOUT_REDIS_SECONDS
            waiter.woken.wait(min(interval, remaining))
            waiter.woken.clear()
    finally:
        if listener is not None and waiter is not None:
            listener.remove(waiter)
        _slots(waiters).release()
