"""Seats of an airplane, computed from its cabin sections (no per-seat rows in the database)."""

from dataclasses import dataclass

from apps.flights.models import CabinSection


@dataclass(frozen=True, slots=True)
class Seat:
    code: str  # "12A"
    row: int
    letter: str
    cabin: str


def seats_from_sections(sections: list[CabinSection]) -> list[Seat]:
    """All seats of a layout, in row then letter order."""
    seats = [
        Seat(code=f"{row}{letter}", row=row, letter=letter, cabin=section.cabin)
        for section in sections
        for row in range(section.first_row, section.last_row + 1)
        for letter in section.seat_letters
    ]
    seats.sort(key=lambda seat: (seat.row, seat.letter))
    return seats


def airplane_seats(airplane_id: int) -> list[Seat]:
    """The seats of one airplane (one query)."""
    return seats_from_sections(list(CabinSection.objects.filter(airplane_id=airplane_id)))
