"""Choosing seats for a booking that asked for none (pure functions: no database access)."""

import random
from collections.abc import Sequence, Set

from apps.flights.models import Cabin
from apps.flights.seating import Seat

# Cheapest first: nobody is moved to a dearer cabin while a cheaper one has room.
CABIN_PREFERENCE = (Cabin.ECONOMY, Cabin.PREMIUM_ECONOMY, Cabin.BUSINESS, Cabin.FIRST)


def seats_choose(
    *, seats: Sequence[Seat], taken: Set[str], count: int, rng: random.Random | None = None
) -> list[Seat] | None:
    """Pick `count` free seats of `seats` (row then letter order), or None if fewer are free.

    The whole booking goes into the cheapest cabin with room for all of it: side by side in one
    row, else together in one row, else the nearest free seats. Only if no cabin has room for
    everyone is the booking spread over cabins, cheapest first. With `rng` each cabin's scan starts
    at a random seat, so concurrent buyers reading the same free seats spread out instead of all
    reaching for the first one.
    """
    scans: list[list[Seat]] = []
    for cabin in CABIN_PREFERENCE:
        cabin_seats = [seat for seat in seats if seat.cabin == cabin]
        if not cabin_seats:
            continue
        start = rng.randrange(len(cabin_seats)) if rng else 0
        scan = cabin_seats[start:] + cabin_seats[:start]
        free = [seat for seat in scan if seat.code not in taken]
        if len(free) >= count:
            return (
                _side_by_side(cabin_seats, start, taken, count)
                or _same_row(scan, taken, count)
                or free[:count]
            )
        scans.append(free)
    free = [seat for scan in scans for seat in scan]
    return free[:count] if len(free) >= count else None


def _side_by_side(cabin_seats: list[Seat], start: int, taken: Set[str], count: int) -> list[Seat] | None:
    total = len(cabin_seats)
    for offset in range(total):
        index = (start + offset) % total
        block = cabin_seats[index : index + count]
        if (
            len(block) == count
            and block[0].row == block[-1].row
            and not any(seat.code in taken for seat in block)
        ):
            return block
    return None


def _same_row(scan: list[Seat], taken: Set[str], count: int) -> list[Seat] | None:
    free_by_row: dict[int, list[Seat]] = {}
    for seat in scan:
        if seat.code not in taken:
            free_by_row.setdefault(seat.row, []).append(seat)
    for row_seats in free_by_row.values():
        if len(row_seats) >= count:
            return sorted(row_seats, key=lambda seat: seat.letter)[:count]
    return None
