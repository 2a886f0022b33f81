"""The tests' cache cleaning, which must never reach beyond the tests' own keys."""

from django.core.cache import cache


def cache_clear_test_keys() -> None:
    """Delete every key under this run's KEY_PREFIX (CACHE_KEY_PREFIX), and nothing else.

    `cache.clear()` flushes the whole Redis database, whatever else is kept there.
    """
    cache.delete_pattern("*")
