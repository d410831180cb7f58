"""The shared cache on Redis: rate limits, lockouts and the metrics' counters."""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

# INCRBY only if the key exists, in one step. Django's EXISTS, then INCR lets the key expire
# in between, and INCR then creates it again without a timeout: a rate-limit counter that
# never resets, and a user or address refused for good.
INCR_EXISTING = """
if redis.call('exists', KEYS[1]) == 1 then
    return redis.call('incrby', KEYS[1], ARGV[1])
end
return false
"""


class _Client(RedisCacheClient):
    """One ``redis.Redis`` per connection pool (Django makes one per call: 50 µs each,
    several per rate-limited request), and an atomic ``incr``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own members, which its type stubs leave out.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
            client.incr_existing = client.register_script(INCR_EXISTING)
        return client

    def incr(self, key: Any, delta: int) -> Any:
        value = self.get_client(key, write=True).incr_existing(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _Client

    def count(self, *keys: str) -> list[int]:
        """Add one to each counter, which never expires and is created at 1: one INCR per
        key in one round trip, where ``add`` and then ``incr`` take two and a script."""
        made = [self.make_and_validate_key(key) for key in keys]
        client = self._cache.get_client(write=True)  # type: ignore[attr-defined]
        with client.pipeline(transaction=False) as pipeline:
            for key in made:
                pipeline.incr(key)
            return [int(value) for value in pipeline.execute()]


def count(*keys: str) -> None:
    """Add one to each counter of the default cache that never expires."""
    shared = caches["default"]
    if isinstance(shared, RedisCache):
        shared.count(*keys)
        return
    for key in keys:
        if not shared.add(key, 1, timeout=None):
            shared.incr(key)
