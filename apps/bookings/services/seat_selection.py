"""Choosing seats for a booking that asked for none (pure functions: no database access).

They read the flight's `seats_taken` marks (apps/flights/seating.py) and touch only the seats they
look at, so choosing stays cheap on a large flight, under the flight's lock.
"""

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass

from apps.flights.models import Cabin
from apps.flights.seating import TAKEN, Layout, Seat, is_taken, layout_seats

# Cheapest first: nobody is moved to a dearer cabin while a cheaper one has room.
CABIN_PREFERENCE = (Cabin.ECONOMY, Cabin.PREMIUM_ECONOMY, Cabin.BUSINESS, Cabin.FIRST)


@dataclass(frozen=True)
class SeatPlan:
    """The seats a flight sells: those of its layout in the cabins it has a fare for."""

    by_cabin: dict[str, tuple[Seat, ...]]  # each cabin's seats, in seat order, cheapest cabin first
    by_code: dict[str, Seat]
    # Each cabin's seats as runs of consecutive positions (first, last): a cabin may have several
    # sections, with another cabin's rows between them.
    runs: dict[str, tuple[tuple[int, int], ...]]

    def free_count(self, cabin: str, taken: str) -> int:
        """How many of the cabin's seats `taken` leaves free (counted at C speed, run by run)."""
        marked = sum(taken.count(TAKEN, first, last + 1) for first, last in self.runs[cabin])
        return len(self.by_cabin[cabin]) - marked


@functools.lru_cache(maxsize=512)
def seat_plan(layout: Layout, priced_cabins: frozenset[str]) -> SeatPlan:
    """The plan of a layout for the cabins with a fare, built once per process for each."""
    seats = [seat for seat in layout_seats(layout) if seat.cabin in priced_cabins]
    by_cabin: dict[str, tuple[Seat, ...]] = {}
    runs: dict[str, tuple[tuple[int, int], ...]] = {}
    for cabin in CABIN_PREFERENCE:
        cabin_seats = tuple(seat for seat in seats if seat.cabin == cabin)
        if not cabin_seats:
            continue
        by_cabin[cabin] = cabin_seats
        cabin_runs: list[list[int]] = []
        for seat in cabin_seats:
            if cabin_runs and cabin_runs[-1][1] == seat.position - 1:
                cabin_runs[-1][1] = seat.position
            else:
                cabin_runs.append([seat.position, seat.position])
        runs[cabin] = tuple((first, last) for first, last in cabin_runs)
    return SeatPlan(by_cabin=by_cabin, by_code={seat.code: seat for seat in seats}, runs=runs)


def seats_choose(
    *, plan: SeatPlan, taken: str, count: int, rng: random.Random | None = None
) -> list[Seat] | None:
    """Pick `count` free seats (`taken`: the flight's marks), or None if fewer are free.

    The whole booking goes into the cheapest cabin with room for all of it: side by side in one
    row, else together in one row, else the nearest free seats. Only if no cabin has room for
    everyone is the booking spread over cabins, cheapest first. With `rng` each cabin's scan starts
    at a random seat, so concurrent buyers reading the same free seats spread out instead of all
    reaching for the first one.
    """
    spread: list[Seat] = []
    for cabin, cabin_seats in plan.by_cabin.items():
        free_count = plan.free_count(cabin, taken)
        start = rng.randrange(len(cabin_seats)) if rng else 0
        if free_count >= count:
            return (
                _side_by_side(cabin_seats, start, taken, count)
                or _same_row(cabin_seats, start, taken, count)
                or _nearest(cabin_seats, start, taken, count)
            )
        if len(spread) < count:
            spread += _nearest(cabin_seats, start, taken, free_count)
    return spread[:count] if len(spread) >= count else None


def _scan(cabin_seats: Sequence[Seat], start: int) -> Sequence[Seat]:
    return [*cabin_seats[start:], *cabin_seats[:start]]


def _side_by_side(cabin_seats: Sequence[Seat], start: int, taken: str, count: int) -> list[Seat] | None:
    total = len(cabin_seats)
    for offset in range(total):
        index = (start + offset) % total
        block = cabin_seats[index : index + count]
        if (
            len(block) == count
            and block[0].row == block[-1].row
            and not any(is_taken(taken, seat.position) for seat in block)
        ):
            return list(block)
    return None


def _same_row(cabin_seats: Sequence[Seat], start: int, taken: str, count: int) -> list[Seat] | None:
    free_by_row: dict[int, list[Seat]] = {}
    for seat in _scan(cabin_seats, start):
        if not is_taken(taken, seat.position):
            free_by_row.setdefault(seat.row, []).append(seat)
            if len(free_by_row[seat.row]) == count:
                return sorted(free_by_row[seat.row], key=lambda free: free.letter)
    return None


def _nearest(cabin_seats: Sequence[Seat], start: int, taken: str, count: int) -> list[Seat]:
    chosen: list[Seat] = []
    for seat in _scan(cabin_seats, start):
        if len(chosen) == count:
            break
        if not is_taken(taken, seat.position):
            chosen.append(seat)
    return chosen


def seats_choose_in_cabin(
    *, plan: SeatPlan, cabin: str, taken: str, count: int, preferred: Sequence[str] = ()
) -> list[Seat] | None:
    """Pick `count` free seats in `cabin` only (a booking moved to another flight keeps its cabin), or
    None if the cabin is not sold there or has fewer free: the `preferred` seat codes (the seats held on
    the old flight) when each is a free seat of that cabin, else together as `seats_choose` places a
    booking."""
    cabin_seats = plan.by_cabin.get(cabin)
    if not cabin_seats or plan.free_count(cabin, taken) < count:
        return None
    wanted = [plan.by_code.get(code) for code in preferred]
    if len(wanted) == count and all(
        seat is not None and seat.cabin == cabin and not is_taken(taken, seat.position) for seat in wanted
    ):
        return [seat for seat in wanted if seat is not None]
    return (
        _side_by_side(cabin_seats, 0, taken, count)
        or _same_row(cabin_seats, 0, taken, count)
        or _nearest(cabin_seats, 0, taken, count)
    )
