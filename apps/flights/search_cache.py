"""Cache-aside for flight search results, keyed by the normalised query and a catalogue version.

Every flight or airplane write bumps the catalogue version after its transaction commits, so the
next search builds a new key and never sees results from before the change; old entries simply
expire after `SEARCH_CACHE_TTL_SECONDS`, which also bounds how stale shown availability can be
(bookings change availability without bumping the version; booking never trusts this cache).

The cache is an optimisation only: if it fails (Redis down), search answers from the database and
a warning is logged.
"""

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from apps.core.cache import CacheUnavailable, cache_bytes_set, cache_round_trip
from apps.core.ratelimit import RateLimit

logger = logging.getLogger(__name__)

CATALOGUE_VERSION_KEY = "flights:catalogue-version"


def catalogue_version() -> int:
    version = cache.get(CATALOGUE_VERSION_KEY)
    if version is None:
        # Seeded from the clock, so a version key lost with a cache flush never reuses old values.
        cache.add(CATALOGUE_VERSION_KEY, time.time_ns(), timeout=None)
        version = cache.get(CATALOGUE_VERSION_KEY)
    return int(version)


def catalogue_version_bump() -> None:
    """Make every cached search result unreachable (runs after the write's transaction commits)."""
    try:
        try:
            cache.incr(CATALOGUE_VERSION_KEY)
        except ValueError:  # no version yet: nothing has been cached under one
            cache.add(CATALOGUE_VERSION_KEY, time.time_ns(), timeout=None)
    except Exception as error:  # the cache backend is pluggable; its failure must not fail the write
        logger.warning("Could not bump the flight catalogue version in the cache: %r", error)


def catalogue_changed() -> None:
    """Schedule a catalogue version bump for when the current transaction commits."""
    transaction.on_commit(catalogue_version_bump)


def search_token(
    *, scope: str, criteria_token: str, page: str, page_size: int, extras: Sequence[tuple[str, str]] = ()
) -> str:
    """The normalised text of one page of a search: equal requests give equal tokens.

    `scope` tells apart what shapes the cached result beyond the criteria (the API's absolute URL,
    whose host its page links carry; the website's results page); `extras` are query parameters the
    search does not know but the cached body still carries (the API's page links), so one client's
    extras never reach another's answer.
    """
    number = int(page) if page.isascii() and page.isdigit() else page
    return "|".join([scope, criteria_token, f"page={number}", f"page_size={page_size}", repr(sorted(extras))])


def search_cache_key(token: str, version: int) -> str:
    return f"flights:search:{version}:{hashlib.sha256(token.encode()).hexdigest()}"


def cached_search(token: str, compute: Callable[[], Any]) -> tuple[Any, bool]:
    """The cached result for `token` (the normalised query), or `compute()` stored for next time.

    Returns (result, hit). Never raises because of the cache.
    """
    try:
        key = search_cache_key(token, catalogue_version())
        result = cache.get(key)
    except Exception as error:  # any cache failure: answer from the database
        logger.warning("Search cache unavailable, answering from the database: %r", error)
        return compute(), False
    if result is not None:
        return result, True
    result = compute()
    try:
        cache.set(key, result, timeout=settings.SEARCH_CACHE_TTL_SECONDS)
    except Exception as error:  # any cache failure: the answer stands, only uncached
        logger.warning("Could not store a search result in the cache: %r", error)
    return result, False


@dataclass(frozen=True, slots=True)
class CachedJson:
    body: bytes  # the JSON answer, as stored
    etag: str
    hit: bool


def cached_json(
    token: str, compute: Callable[[], bytes], *, ttl: int, limit: RateLimit | None = None
) -> CachedJson:
    """The JSON answer for `token` (the normalised request) as stored bytes, or `compute()` stored for
    next time under the current catalogue version; and the caller's rate `limit` counted.

    One round trip to the cache for all of it (the version, the entry, the counter: apps/core/cache.py),
    since cached answers are the cheapest requests there are. An entry carries the version it was
    computed under and is valid only while that is current, so a catalogue change is seen at once;
    otherwise it lives `ttl` seconds, which bounds how stale shown availability can be. The rate
    limit is checked after the trip (RateLimited, or RateLimiterUnavailable where it fails closed).
    A cache that does not answer is logged and the answer computed from the database.
    """
    entry_key = f"flights:json:{hashlib.sha256(token.encode()).hexdigest()}"
    try:
        (version, entry), count = cache_round_trip(
            [CATALOGUE_VERSION_KEY, entry_key], limit.counter if limit else None
        )
    except CacheUnavailable as error:
        logger.warning("Search cache unavailable, answering from the database: %s", error)
        if limit is not None:
            limit.check(None)
        body = compute()
        return CachedJson(body=body, etag=_etag(body), hit=False)
    if limit is not None:
        limit.check(count)
    if version is not None and entry is not None:
        stored_version, etag, body = bytes(entry).split(b":", 2)
        if int(stored_version) == int(version):
            return CachedJson(body=body, etag=etag.decode(), hit=True)
    body = compute()
    etag = _etag(body)
    try:
        current = int(version) if version is not None else catalogue_version()
        cache_bytes_set(entry_key, f"{current}:{etag}:".encode() + body, ttl)
    except Exception as error:  # any cache failure: the answer stands, only uncached
        logger.warning("Could not store a cached answer: %r", error)
    return CachedJson(body=body, etag=etag, hit=False)


def _etag(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=12).hexdigest()
