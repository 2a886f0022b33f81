"""Seats of an airplane, computed from its cabin sections (no per-seat rows in the database), and the
flight's record of which of them are taken.

A seat's *position* is its index in the layout's seat order (row, then letter). `Flight.seats_taken`
holds one character per position: "1" taken, "0" free; positions past the end of the string are
free (a new flight's string is empty). It changes in the same statement as `available_seats`
(apps/flights/services/seats.py), so the two always agree, and the bookings app's seat assignments,
unique per seat while active, are the record it must match (`manage.py check_inventory`).
"""

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from apps.flights.models import CabinSection

TAKEN, FREE = "1", "0"

# (cabin, first_row, last_row, seat_letters) per section: what a layout is, as a cache key.
Layout = tuple[tuple[str, int, int, str], ...]


@dataclass(frozen=True, slots=True)
class Seat:
    code: str  # "12A"
    row: int
    letter: str
    cabin: str
    position: int  # index in the layout's seat order, and in Flight.seats_taken


def seats_from_sections(sections: Iterable[CabinSection]) -> list[Seat]:
    """All seats of a layout, in row then letter order."""
    return list(layout_seats(layout_of(sections)))


def layout_of(sections: Iterable[CabinSection]) -> Layout:
    return tuple(
        sorted(
            (section.cabin, section.first_row, section.last_row, section.seat_letters) for section in sections
        )
    )


@functools.lru_cache(maxsize=512)
def layout_seats(layout: Layout) -> tuple[Seat, ...]:
    """The seats of a layout in seat order, built once per process for each layout (building the list
    of a large airplane on every request would cost more than the rest of a hold's validation)."""
    cells = sorted(
        (row, letter, cabin)
        for cabin, first_row, last_row, letters in layout
        for row in range(first_row, last_row + 1)
        for letter in letters
    )
    return tuple(
        Seat(code=f"{row}{letter}", row=row, letter=letter, cabin=cabin, position=position)
        for position, (row, letter, cabin) in enumerate(cells)
    )


@functools.lru_cache(maxsize=512)
def layout_positions(layout: Layout) -> dict[str, int]:
    """Seat code → position, for a layout."""
    return {seat.code: seat.position for seat in layout_seats(layout)}


# An airplane's layout cannot change while it has flights (apps/flights/services/airplanes.py), and
# every change of it saves the airplane, moving its `updated_at`: (id, updated_at) names one layout.
_layouts: dict[tuple[int, datetime], Layout] = {}


def airplane_layout(airplane_id: int, updated_at: datetime) -> Layout:
    """The layout of an airplane as last saved at `updated_at` (one query the first time per process)."""
    key = (airplane_id, updated_at)
    layout = _layouts.get(key)
    if layout is None:
        layout = layout_of(CabinSection.objects.filter(airplane_id=airplane_id))
        if len(_layouts) > 2048:
            _layouts.clear()
        _layouts[key] = layout
    return layout


def airplane_seats(airplane_id: int) -> list[Seat]:
    """The seats of one airplane (one query)."""
    return seats_from_sections(CabinSection.objects.filter(airplane_id=airplane_id))


def airplane_positions(airplane_id: int) -> dict[str, int]:
    """Seat code → position on one airplane (one query)."""
    return layout_positions(layout_of(CabinSection.objects.filter(airplane_id=airplane_id)))


@functools.lru_cache(maxsize=512)
def cabin_runs(layout: Layout) -> dict[str, tuple[tuple[int, int], ...]]:
    """Each cabin's seats as runs of consecutive positions (first, last): a cabin may have several
    sections, with another cabin's rows between them."""
    runs: dict[str, list[list[int]]] = {}
    for seat in layout_seats(layout):
        cabin = runs.setdefault(seat.cabin, [])
        if cabin and cabin[-1][1] == seat.position - 1:
            cabin[-1][1] = seat.position
        else:
            cabin.append([seat.position, seat.position])
    return {cabin: tuple((first, last) for first, last in each) for cabin, each in runs.items()}


def cabin_free_counts(layout: Layout, seats_taken: str) -> dict[str, int]:
    """How many seats of each cabin of the layout `seats_taken` leaves free (counted run by run)."""
    return {
        cabin: sum(last - first + 1 - seats_taken.count(TAKEN, first, last + 1) for first, last in each)
        for cabin, each in cabin_runs(layout).items()
    }


def is_taken(seats_taken: str, position: int) -> bool:
    return position < len(seats_taken) and seats_taken[position] == TAKEN


def taken_positions(seats_taken: str) -> set[int]:
    return {position for position, mark in enumerate(seats_taken) if mark == TAKEN}


def seats_marked(seats_taken: str, positions: Sequence[int], mark: str) -> str:
    """`seats_taken` with each of `positions` set to `mark` (TAKEN or FREE), padded as needed."""
    marks = list(seats_taken.ljust(max(positions, default=-1) + 1, FREE))
    for position in positions:
        marks[position] = mark
    return "".join(marks)
