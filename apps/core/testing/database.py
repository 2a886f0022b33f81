"""Helpers of fault tests that end a database session on purpose, as a crash or a network cut would."""

import time

from django.db import connection


def session_waiting(patterns: list[str], *, deadline_seconds: float) -> int:
    """The id of another session on this test database running a statement LIKE one of `patterns`.

    Meant for a statement blocked by a lock this session holds, so it cannot finish before it is
    found. Polls the process list, for at most `deadline_seconds`. (InnoDB's lock-wait tables miss
    some waits: MariaDB takes the row lock of a primary-key lookup while optimizing the statement.)
    """
    matches = " OR ".join(["info LIKE %s"] * len(patterns))
    query = (
        "SELECT id FROM information_schema.PROCESSLIST "
        f"WHERE db = DATABASE() AND id <> CONNECTION_ID() AND command = 'Query' AND ({matches})"
    )
    deadline = time.monotonic() + deadline_seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(query, patterns)
            row = cursor.fetchone()
            if row is not None:
                return row[0]
    raise AssertionError(f"No session ran a statement like {patterns} within {deadline_seconds} s")


def session_kill(session_id: int) -> None:
    """End another session as the server does when its client vanishes: its statement is aborted,
    its transaction rolled back, its client's next call fails with "Lost connection"."""
    with connection.cursor() as cursor:
        cursor.execute("KILL %s", [session_id])
