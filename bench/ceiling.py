"""The database ceiling: the hold as bare SQL on one hot row, no Django, no HTTP.

`python -m bench.ceiling` reads a job (JSON) on stdin and writes the result on stdout. `concurrency`
threads, each with its own persistent mysqlclient connection at READ COMMITTED (Airline's isolation
level), run for `duration` seconds the smallest transaction a hold needs, on scratch tables of the
bench database (`bench_ceiling_flight`, `bench_ceiling_hold`), never on Airline's own:

- "for_update" (the pessimistic strategy): SELECT … FOR UPDATE the flight row, check, decrement,
  INSERT the booking row, COMMIT;
- "conditional" (the optimistic strategy): INSERT the booking row, conditional UPDATE … WHERE
  available >= 1 (the fastest correct form in shared/MEASUREMENTS.md), COMMIT.

mysqlclient releases the GIL while it waits on the server, so threads are enough to keep every
connection busy. The result is committed holds per second: what MariaDB alone allows on this machine.
"""

import json
import secrets
import string
import sys
import threading
import time
from typing import Any

import MySQLdb

SCRATCH_TABLES = (
    "CREATE TABLE IF NOT EXISTS bench_ceiling_flight ("
    " id BIGINT PRIMARY KEY, available_seats INT UNSIGNED NOT NULL, version INT UNSIGNED NOT NULL"
    ") ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS bench_ceiling_hold ("
    " id BIGINT AUTO_INCREMENT PRIMARY KEY, flight_id BIGINT NOT NULL, reference CHAR(6) NOT NULL,"
    " created_at DATETIME(6) NOT NULL, UNIQUE KEY (reference)) ENGINE=InnoDB",
)
_REFERENCE_CHARACTERS = string.ascii_uppercase + string.digits
FLIGHT_ID = 1
SEATS = 4_000_000_000


def _connect(database: dict[str, Any]) -> "MySQLdb.Connection":
    connection = MySQLdb.connect(
        host=database["host"],
        port=database["port"],
        user=database["user"],
        password=database["password"],
        database=database["name"],
        charset="utf8mb4",
        autocommit=False,
    )
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cursor.execute("SET SESSION innodb_lock_wait_timeout = 10")
    return connection


def _prepare(database: dict[str, Any]) -> None:
    connection = _connect(database)
    with connection.cursor() as cursor:
        for statement in SCRATCH_TABLES:
            cursor.execute(statement)
        cursor.execute("TRUNCATE bench_ceiling_hold")
        cursor.execute(
            "REPLACE INTO bench_ceiling_flight (id, available_seats, version) VALUES (%s, %s, 0)",
            (FLIGHT_ID, SEATS),
        )
    connection.commit()
    connection.close()


def _hold_for_update(cursor: Any) -> bool:
    cursor.execute("SELECT available_seats FROM bench_ceiling_flight WHERE id = %s FOR UPDATE", (FLIGHT_ID,))
    (available,) = cursor.fetchone()
    if available < 1:
        return False
    cursor.execute(
        "UPDATE bench_ceiling_flight SET available_seats = available_seats - 1, version = version + 1"
        " WHERE id = %s",
        (FLIGHT_ID,),
    )
    cursor.execute(
        "INSERT INTO bench_ceiling_hold (flight_id, reference, created_at) VALUES (%s, %s, NOW(6))",
        (FLIGHT_ID, _reference()),
    )
    return True


def _hold_conditional(cursor: Any) -> bool:
    cursor.execute(
        "INSERT INTO bench_ceiling_hold (flight_id, reference, created_at) VALUES (%s, %s, NOW(6))",
        (FLIGHT_ID, _reference()),
    )
    return bool(
        cursor.execute(
            "UPDATE bench_ceiling_flight SET available_seats = available_seats - 1, version = version + 1"
            " WHERE id = %s AND available_seats >= 1",
            (FLIGHT_ID,),
        )
    )


def _reference() -> str:
    # Six characters from 36, like a booking reference: a collision is about 1 in 10^5 runs.
    return "".join(secrets.choice(_REFERENCE_CHARACTERS) for _ in range(6))


HOLDS = {"for_update": _hold_for_update, "conditional": _hold_conditional}


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run `concurrency` connections for `duration` seconds; committed holds per second."""
    database, concurrency, hold = job["database"], job["concurrency"], HOLDS[job["form"]]
    _prepare(database)
    connections = [_connect(database) for _ in range(concurrency)]
    committed = [0] * concurrency
    conflicts = [0] * concurrency
    start = threading.Barrier(concurrency + 1)

    def worker(index: int, deadline_box: list[float]) -> None:
        connection = connections[index]
        cursor = connection.cursor()
        start.wait()
        while time.perf_counter() < deadline_box[0]:
            try:
                if hold(cursor):
                    connection.commit()
                    committed[index] += 1
                else:
                    connection.rollback()
            except MySQLdb.IntegrityError:  # a reference collision: not a hold
                connection.rollback()
                conflicts[index] += 1

    deadline_box = [0.0]
    threads = [threading.Thread(target=worker, args=(index, deadline_box)) for index in range(concurrency)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline_box[0] = began + job["duration"]
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    for connection in connections:
        connection.close()
    total = sum(committed)
    return {
        "form": job["form"],
        "concurrency": concurrency,
        "elapsed_s": elapsed,
        "committed": total,
        "ok_per_s": total / elapsed,
        "conflicts": sum(conflicts),
    }


def main() -> None:
    json.dump(run_job(json.load(sys.stdin)), sys.stdout)


if __name__ == "__main__":
    main()
