"""Running calls concurrently on real threads, each with its own database connection."""

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connection

from apps.core.exceptions import ApplicationError

MAX_WORKERS = 32  # MariaDB allows 151 connections, shared with everyone else's tests


def race(calls: Sequence[Callable[[], Any]], *, workers: int = MAX_WORKERS) -> list[Any]:
    """Run every call on a pool of threads; return each result or the exception it raised."""

    def run(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as error:  # returned to the test, which asserts on every outcome
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=min(workers, len(calls))) as pool:
        return list(pool.map(run, calls))


def outcome_counts(results: Sequence[Any]) -> Counter:
    """ "ok" for a result, the error code for an application error, the class name otherwise."""
    return Counter(
        (error.code if isinstance(error, ApplicationError) else type(error).__name__)
        if isinstance(error := result, Exception)
        else "ok"
        for result in results
    )
