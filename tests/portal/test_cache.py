"""The shared Redis cache that rate limits and lockouts count in."""

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from core.cache import RedisCache


@pytest.fixture
def cache(redis_url: str) -> Iterator[RedisCache]:
    shared = RedisCache(redis_url, {"KEY_PREFIX": "test-cache"})
    shared.clear()
    yield shared
    shared.clear()


def test_incr_counts_up_a_key_that_exists_and_keeps_its_timeout(
    cache: RedisCache, redis_url: str
) -> None:
    cache.add("hits", 0, timeout=60)
    assert cache.incr("hits") == 1
    assert cache.incr("hits", 5) == 6
    ttl = redis.Redis.from_url(redis_url).ttl(cache.make_key("hits"))
    assert 0 < ttl <= 60


def test_incr_of_a_missing_or_expired_key_refuses_and_creates_nothing(
    cache: RedisCache, redis_url: str
) -> None:
    with pytest.raises(ValueError, match="not found"):
        cache.incr("hits")
    # The counter must not come back without a timeout: it would never reset.
    assert not redis.Redis.from_url(redis_url).exists(cache.make_key("hits"))


def test_cache_operations_reuse_one_redis_client(
    cache: RedisCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.set("warm", 1)
    made: list[object] = []
    original = redis.Redis.__init__

    def counting(self: redis.Redis, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counting)
    cache.set("a", 2)
    assert cache.get("a") == 2
    cache.add("b", 1)
    assert cache.incr("b") == 2
    assert made == []


def test_count_creates_a_counter_at_one_that_never_expires_and_counts_up(
    cache: RedisCache, redis_url: str
) -> None:
    assert cache.count("funnel") == [1]
    assert cache.count("funnel", "other") == [2, 1]  # in one round trip
    assert cache.get("funnel") == 2
    assert redis.Redis.from_url(redis_url).ttl(cache.make_key("funnel")) == -1
    assert redis.Redis.from_url(redis_url).ttl(cache.make_key("other")) == -1
