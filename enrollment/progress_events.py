"""Long polling of an installation's progress: the worker announces, a waiting request wakes.

An installer (or the step-7 page) asks ``/api/v1/status?wait=10``: instead of polling every
second, the request returns as soon as the progress changes. The worker publishes on a Redis
channel per enrollment after each commit that changes an order; the waiting request also
re-reads the database every second, so a lost announcement (or no Redis at all, as under
``make run``) costs at most a second, never a missed change.

A waiting request holds a web thread, so each process lets only a few wait at once
(``API_STATUS_WAITERS``); the rest are answered at once and poll as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 1.0


def _channel(enrollment_id: int) -> str:
    return f"portal:enrollment:{enrollment_id}"


@cache
def _client() -> redis.Redis:
    # One connection pool per process; short timeouts so that a hung Redis costs a waiter
    # its wait, not the request.
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=1)


@cache
def _slots(count: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(count)


def announce(enrollment_id: int) -> None:
    """Wake the requests waiting on this enrollment (call after the change committed)."""
    if not settings.REDIS_URL:
        return
    try:
        _client().publish(_channel(enrollment_id), b"changed")
    except redis.RedisError:
        logger.info("could not announce a change of enrollment %s; waiters re-read", enrollment_id)


def wait_for_change(enrollment_id: int, changed: Callable[[], bool], seconds: float) -> None:
    """Return when ``changed()`` is true or after ``seconds``, whichever comes first."""
    waiters = settings.API_STATUS_WAITERS
    if seconds <= 0 or waiters <= 0 or not _slots(waiters).acquire(blocking=False):
        return
    try:
        deadline = time.monotonic() + seconds
        pubsub = _subscribe(enrollment_id)
        try:
            while not changed():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                timeout = min(RECHECK_SECONDS, remaining)
                if pubsub is None:
                    time.sleep(min(0.25, timeout))
                    continue
                try:
                    pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
                except redis.RedisError:
                    pubsub = None
        finally:
            if pubsub is not None:
                pubsub.close()
    finally:
        _slots(waiters).release()


def _subscribe(enrollment_id: int) -> redis.client.PubSub | None:
    if not settings.REDIS_URL:
        return None
    try:
        pubsub = _client().pubsub()
        pubsub.subscribe(_channel(enrollment_id))
        return pubsub
    except redis.RedisError:
        return None
