"""retry_on_lock_conflict against real InnoDB lock waits and deadlocks (no simulated errors)."""

import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import OperationalError, connection, transaction

from apps.core.db import is_lock_conflict, retry_on_lock_conflict
from apps.core.exceptions import Busy

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rows() -> list[int]:
    """Two rows every database has, to take locks on."""
    return list(ContentType.objects.order_by("pk").values_list("pk", flat=True)[:2])


def lock(pk: int) -> None:
    ContentType.objects.select_for_update().get(pk=pk)


@pytest.fixture
def held_lock(rows, settings):
    """Another connection holds a lock on rows[0] until `release` is set; this one waits 1 s."""
    locked, release = threading.Event(), threading.Event()

    def holder() -> None:
        try:
            with transaction.atomic():
                lock(rows[0])
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert locked.wait(timeout=10)
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")
    yield release
    release.set()
    thread.join(timeout=10)
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = %s", [settings.DB_LOCK_WAIT_TIMEOUT_SECONDS])


def test_lock_wait_timeout_is_retried_once_and_then_succeeds(rows, held_lock):
    calls = []

    @retry_on_lock_conflict
    def use_case() -> str:
        calls.append(1)
        if len(calls) == 2:
            held_lock.set()  # the other transaction finishes before our retry
        with transaction.atomic():
            lock(rows[0])
        return "done"

    assert use_case() == "done"
    assert len(calls) == 2


def test_second_lock_wait_timeout_is_busy_with_retry_after(rows, held_lock):
    calls = []

    @retry_on_lock_conflict
    def use_case() -> None:
        calls.append(1)
        with transaction.atomic():
            lock(rows[0])

    with pytest.raises(Busy) as raised:
        use_case()

    assert len(calls) == 2
    assert (raised.value.code, raised.value.http_status, raised.value.retry_after) == ("busy", 409, 1)
    assert is_lock_conflict(raised.value.__cause__)


def test_inside_an_enclosing_transaction_a_conflict_is_busy_at_once(rows, held_lock):
    calls = []

    @retry_on_lock_conflict
    def use_case() -> None:
        calls.append(1)
        lock(rows[0])

    with pytest.raises(Busy), transaction.atomic():
        use_case()

    assert len(calls) == 1


def test_deadlock_victim_is_retried_and_both_finish(rows):
    # given two use cases locking the same two rows in opposite orders, meeting in the middle
    barrier = threading.Barrier(2, timeout=10)
    calls: list[str] = []

    def use_case(name: str, first: int, second: int):
        @retry_on_lock_conflict
        def run() -> str:
            calls.append(name)
            with transaction.atomic():
                lock(first)
                if calls.count(name) == 1:
                    barrier.wait()
                lock(second)
            return name

        def thread_body() -> None:
            try:
                results.append(run())
            except Exception as error:  # collected and asserted below
                results.append(error)
            finally:
                connection.close()

        return threading.Thread(target=thread_body)

    results: list = []
    threads = [use_case("one", rows[0], rows[1]), use_case("two", rows[1], rows[0])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    # then InnoDB picked one victim, whose retry finished after the winner committed
    assert sorted(results) == ["one", "two"]
    assert len(calls) == 3


def test_other_operational_errors_are_not_retried():
    calls = []

    @retry_on_lock_conflict
    def use_case() -> None:
        calls.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM django_content_type")

    with pytest.raises(OperationalError):
        use_case()

    assert len(calls) == 1


def test_sqlite_busy_database_counts_as_a_lock_conflict():
    assert is_lock_conflict(OperationalError("database is locked"))
    assert not is_lock_conflict(OperationalError("no such table: x"))
    assert not is_lock_conflict(ValueError("database is locked"))
