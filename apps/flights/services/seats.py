"""A flight's seat inventory (`available_seats` and `seats_taken`): the only code that moves it.

The bookings app decides which seats a booking takes or gives back (its seat assignments, unique per
seat while active); the flight's counter and its record of taken seats follow, in one statement of
the same transaction, so that `available_seats == total_seats − active seat assignments` and
`seats_taken` marks exactly those seats (`manage.py check_inventory` verifies both).

These statements run on every hold, most of them while the flight's row is locked, so they are
written as SQL here rather than built by the ORM (building an UPDATE cost several times what the
database spends on it; docs/PROFILE.md). The SQL is plain and runs on MariaDB and on the embedded
SQLite (which has RPAD through Django's SQLite functions, and `||` for CONCAT).
"""

from collections.abc import Sequence
from datetime import datetime

from django.db import connection

from apps.flights.models import Flight
from apps.flights.seating import FREE, TAKEN, seats_marked

TABLE = Flight._meta.db_table


def flight_seats_take(*, flight: Flight, positions: Sequence[int]) -> None:
    """Take the seats at `positions` of `flight`, the row this transaction locked (and found them free)."""
    flight.seats_taken = seats_marked(flight.seats_taken, positions, TAKEN)
    flight.available_seats -= len(positions)
    _execute(
        f"UPDATE {TABLE} SET available_seats = available_seats - %s, seats_taken = %s, version = version + 1"
        " WHERE id = %s",
        [len(positions), flight.seats_taken, flight.pk],
    )


def flight_seats_take_if_free(*, flight: Flight, positions: Sequence[int], now: datetime) -> bool:
    """Take the seats at `positions` in one conditional UPDATE, without a lock taken in code.

    It moves nothing and answers False unless, in the database at that instant, the flight is on sale
    (`Flight.on_sale`), has that many seats left and each of `positions` is free; the marks are set
    in SQL, so concurrent holds of other seats are never overwritten. `flight` is a recent read of
    the row (its total_seats).
    """
    marks = "RPAD(seats_taken, %s, %s)"  # "past the end is free", made explicit for SUBSTR
    on_sale, on_sale_params = Flight.on_sale_sql(now)
    ordered = sorted(positions)
    # The new marks: the runs between the taken seats copied from the row, a TAKEN mark at each.
    parts, part_params, start = [], [], 0
    for position in ordered:
        parts += [f"SUBSTR({marks}, %s, %s)", "%s"]
        part_params += [flight.total_seats, FREE, start + 1, position - start, TAKEN]
        start = position + 1
    parts.append(f"SUBSTR({marks}, %s)")
    part_params += [flight.total_seats, FREE, start + 1]
    free = " AND ".join(f"SUBSTR({marks}, %s, 1) = %s" for _ in ordered)
    free_params = [value for position in ordered for value in (flight.total_seats, FREE, position + 1, FREE)]
    taken = _execute(
        f"UPDATE {TABLE} SET available_seats = available_seats - %s, seats_taken = {_concat(parts)},"
        f" version = version + 1 WHERE id = %s AND {on_sale} AND available_seats >= %s AND {free}",
        [len(ordered), *part_params, flight.pk, *on_sale_params, len(ordered), *free_params],
    )
    return taken == 1


def flight_seats_reserve(*, flight_id: int, count: int, now: datetime) -> str | None:
    """Take `count` seats off the counter if the flight is on sale and has them (one conditional
    UPDATE), and return its marks of taken seats, exact from then on; None: nothing was taken.

    The UPDATE holds the row until this transaction ends, so no other hold can change the marks
    meanwhile: the caller chooses its seats from them and records them with `flight_seats_mark`.
    """
    on_sale, on_sale_params = Flight.on_sale_sql(now)
    reserved = _execute(
        f"UPDATE {TABLE} SET available_seats = available_seats - %s, version = version + 1"
        f" WHERE id = %s AND {on_sale} AND available_seats >= %s",
        [count, flight_id, *on_sale_params, count],
    )
    if reserved != 1:
        return None
    return Flight.objects.values_list("seats_taken", flat=True).get(pk=flight_id)


def flight_seats_mark(*, flight_id: int, seats_taken: str, positions: Sequence[int]) -> None:
    """Mark the seats at `positions` taken, after `flight_seats_reserve` in this transaction (whose
    `seats_taken` this is) took them off the counter."""
    _execute(
        f"UPDATE {TABLE} SET seats_taken = %s WHERE id = %s",
        [seats_marked(seats_taken, positions, TAKEN), flight_id],
    )


def flight_seats_return(*, flight: Flight, positions: Sequence[int]) -> None:
    """Give the seats at `positions` back to `flight`, the row this transaction locked."""
    if not positions:
        return
    flight.seats_taken = seats_marked(flight.seats_taken, positions, FREE)
    flight.available_seats += len(positions)
    _execute(
        f"UPDATE {TABLE} SET available_seats = available_seats + %s, seats_taken = %s, version = version + 1"
        " WHERE id = %s",
        [len(positions), flight.seats_taken, flight.pk],
    )


def _execute(sql: str, params: list) -> int:
    """Run one statement; the number of rows it changed."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _concat(parts: list[str]) -> str:
    if connection.vendor == "sqlite":
        return " || ".join(parts)
    return f"CONCAT({', '.join(parts)})"
