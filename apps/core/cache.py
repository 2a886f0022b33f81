"""One round trip to the shared cache for what a hot request needs from it.

A cached search needs three things from Redis: the catalogue version, the cached answer, and its
client's rate-limit counter. Asked one by one through Django's cache API that is four round trips
(the counter's add and incr, the version, the entry); `cache_round_trip` sends them together (a
Redis pipeline: one write, one read) and is what every rate limit and every cached JSON answer uses.
With another cache backend (the embedded default's local memory) it falls back to Django's cache API.
Cached values here are bytes, stored as they are (no pickling): an answer is sent as it was stored.

Raises CacheUnavailable when the cache cannot be reached; callers decide whether that fails open.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.cache import cache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError


class CacheUnavailable(Exception):
    """The shared cache did not answer."""


@dataclass(frozen=True, slots=True)
class Counter:
    """A counter to increment in the same round trip: `key`, expiring `ttl` seconds after its first count."""

    key: str
    ttl: int


def cache_round_trip(
    keys: Sequence[str], counter: Counter | None = None
) -> tuple[list[bytes | None], int | None]:
    """The values of `keys` (bytes, or None where absent) and the counter's new count (None without one)."""
    client = _redis()
    try:
        if client is None:
            values = cache.get_many(keys)
            count = None
            if counter is not None:
                cache.add(counter.key, 0, counter.ttl)
                count = cache.incr(counter.key)
            return [values.get(key) for key in keys], count
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.get(cache.make_key(key))
        if counter is not None:
            full_key = cache.make_key(counter.key)
            pipe.incr(full_key)
            pipe.expire(full_key, counter.ttl, nx=True)  # only the window's first count sets it
        results = pipe.execute()
    except (RedisError, ConnectionInterrupted, OSError, ValueError) as error:
        raise CacheUnavailable(str(error)) from error
    return results[: len(keys)], (int(results[len(keys)]) if counter is not None else None)


def cache_bytes_set(key: str, value: bytes, ttl: int) -> None:
    """Store `value` as it is under `key` for `ttl` seconds. Raises CacheUnavailable."""
    client = _redis()
    try:
        if client is None:
            cache.set(key, value, ttl)
        else:
            client.set(cache.make_key(key), value, ex=ttl)
    except (RedisError, ConnectionInterrupted, OSError) as error:
        raise CacheUnavailable(str(error)) from error


def _redis():
    """The default cache's Redis client (django-redis), or None for another backend."""
    client = getattr(cache, "client", None)
    get_client = getattr(client, "get_client", None)
    return get_client(write=True) if get_client is not None else None
