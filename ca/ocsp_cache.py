"""The cache of OCSP answers in front of the database: its keys, reading, filling, forgetting.

A module of its own because two sides use it: the OCSP responder (ca.ocsp) reads and fills
it, and a revocation or a hold release (ca.models) forgets the certificate's entry when it
commits. The cache is a shortcut: while Redis is down the answer comes from the database.
"""

from __future__ import annotations

import contextlib

import redis
from django.core.cache import cache


def cache_key(ca_id: int, serial_hex: str) -> str:
    return f"ca:ocsp:{ca_id}:{serial_hex}"


def cached(key: str) -> bytes | None:
    try:
        response = cache.get(key)
    except redis.RedisError:
        return None
    return None if response is None else bytes(response)


def remember(key: str, response_der: bytes, timeout: int) -> None:
    with contextlib.suppress(redis.RedisError):
        cache.set(key, response_der, timeout)


def forget_cached_response(ca_id: int, serial_hex: str) -> None:
    cache.delete(cache_key(ca_id, serial_hex))
