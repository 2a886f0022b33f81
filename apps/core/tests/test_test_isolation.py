"""The test suite leaves a developer's own Redis data alone."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection

from apps.core.testing.cache import cache_clear_test_keys


def test_the_per_test_cleaning_deletes_this_runs_keys_only():
    # given a cached value of this run and a key someone else keeps in the same Redis database
    cache.set("probe", "cached", timeout=60)
    redis = get_redis_connection("default")
    redis.set("someone-else:probe", "kept", ex=60)
    try:
        # when the cleaning between tests runs
        cache_clear_test_keys()

        # then this run's value is gone and the other key is still there
        assert cache.get("probe") is None
        assert redis.get("someone-else:probe") == b"kept"
    finally:
        redis.delete("someone-else:probe")


@pytest.mark.slow
def test_the_tests_use_a_redis_database_of_their_own_by_default():
    environment = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.REDIS_URL)"],
        cwd=settings.BASE_DIR,
        env={**environment, "DJANGO_SETTINGS_MODULE": "airline.settings.test"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.strip() == "redis://127.0.0.1:6379/15"
