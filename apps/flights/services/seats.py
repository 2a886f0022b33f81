"""A flight's seat inventory (`available_seats` and `seats_taken`): the only code that moves it.

The bookings app decides which seats a booking takes or gives back (its seat assignments, unique per
seat while active); the flight's counter and its record of taken seats follow, in one statement of
the same transaction, so that `available_seats == total_seats − active seat assignments` and
`seats_taken` marks exactly those seats (`manage.py check_inventory` verifies both).
"""

from collections.abc import Sequence
from datetime import datetime

from django.db.models import F, Value
from django.db.models.functions import Concat, RPad, Substr
from django.db.models.lookups import Exact

from apps.flights.models import Flight
from apps.flights.seating import FREE, TAKEN, seats_marked


def flight_seats_take(*, flight: Flight, positions: Sequence[int]) -> None:
    """Take the seats at `positions` of `flight`, the row this transaction locked (and found them free)."""
    flight.seats_taken = seats_marked(flight.seats_taken, positions, TAKEN)
    flight.available_seats -= len(positions)
    Flight.objects.filter(pk=flight.pk).update(
        available_seats=F("available_seats") - len(positions),
        seats_taken=flight.seats_taken,
        version=F("version") + 1,
    )


def flight_seats_take_if_free(*, flight: Flight, positions: Sequence[int], now: datetime) -> bool:
    """Take the seats at `positions` in one conditional UPDATE, without a lock taken in code.

    It moves nothing and answers False unless, in the database at that instant, the flight is on sale
    (`Flight.on_sale`), has that many seats left and each of `positions` is free; the marks are set
    in SQL, so concurrent holds of other seats are never overwritten. `flight` is a recent read of
    the row (its total_seats).
    """
    marks = RPad(F("seats_taken"), flight.total_seats, Value(FREE))
    free = [Exact(Substr(marks, position + 1, 1), Value(FREE)) for position in positions]
    taken = Flight.objects.filter(
        Flight.on_sale(now), *free, pk=flight.pk, available_seats__gte=len(positions)
    ).update(
        available_seats=F("available_seats") - len(positions),
        seats_taken=_marks_set(marks, sorted(positions)),
        version=F("version") + 1,
    )
    return bool(taken)


def flight_seats_reserve(*, flight_id: int, count: int, now: datetime) -> str | None:
    """Take `count` seats off the counter if the flight is on sale and has them (one conditional
    UPDATE), and return its marks of taken seats, exact from then on; None: nothing was taken.

    The UPDATE holds the row until this transaction ends, so no other hold can change the marks
    meanwhile: the caller chooses its seats from them and records them with `flight_seats_mark`.
    """
    reserved = Flight.objects.filter(Flight.on_sale(now), pk=flight_id, available_seats__gte=count).update(
        available_seats=F("available_seats") - count, version=F("version") + 1
    )
    if not reserved:
        return None
    return Flight.objects.values_list("seats_taken", flat=True).get(pk=flight_id)


def flight_seats_mark(*, flight_id: int, seats_taken: str, positions: Sequence[int]) -> None:
    """Mark the seats at `positions` taken, after `flight_seats_reserve` in this transaction (whose
    `seats_taken` this is) took them off the counter."""
    Flight.objects.filter(pk=flight_id).update(seats_taken=seats_marked(seats_taken, positions, TAKEN))


def flight_seats_return(*, flight: Flight, positions: Sequence[int]) -> None:
    """Give the seats at `positions` back to `flight`, the row this transaction locked."""
    if not positions:
        return
    flight.seats_taken = seats_marked(flight.seats_taken, positions, FREE)
    flight.available_seats += len(positions)
    Flight.objects.filter(pk=flight.pk).update(
        available_seats=F("available_seats") + len(positions),
        seats_taken=flight.seats_taken,
        version=F("version") + 1,
    )


def _marks_set(marks, positions: list[int]):
    """SQL for `marks` with each of the (ascending) `positions` set to TAKEN: the runs between them
    kept as they are in the row, so the expression grows with the seats taken, not the flight."""
    parts = []
    start = 0  # 0-based index of the first mark not yet copied
    for position in positions:
        parts += [Substr(marks, start + 1, position - start), Value(TAKEN)]
        start = position + 1
    parts.append(Substr(marks, start + 1))
    return Concat(*parts)
