"""The passenger manifest as CSV, written row by row for a streaming download.

UTF-8 with a byte-order mark, so spreadsheet programs read the names' accents right, and every cell
that a spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a carriage return)
is written with a leading apostrophe: a passenger named "=HYPERLINK(…)" stays text.
"""

import csv
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from apps.bookings.models import Passenger, SeatAssignment
from apps.flights.models import Cabin, Flight

BOM = "\ufeff"
HEADER = [
    "Seat",
    "Cabin",
    "First name",
    "Last name",
    "Type",
    "Booking",
    "Booking state",
    "Checked in",
    "Infant on lap",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows fetched per round trip while streaming.
CHUNK_SIZE = 500


def spreadsheet_safe(value: str) -> str:
    """`value`, with a leading apostrophe when a spreadsheet would read it as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


class _Echo:
    """A file whose write returns what it was given: csv.writer then yields each line."""

    def write(self, value: str) -> str:
        return value


def manifest_csv_lines(seats: Iterable[SeatAssignment]) -> Iterator[str]:
    """The CSV's lines, the byte-order mark and the header first (`seats` as `flight_manifest` reads
    them: an infant, who has no seat, is named on its adult's row)."""
    writer = csv.writer(_Echo())
    cabins = dict(Cabin.choices)
    types = dict(Passenger.Type.choices)
    yield BOM + writer.writerow(HEADER)
    for seat in seats:
        booking, passenger = seat.booking, seat.passenger
        row = [
            seat.seat_code,
            cabins.get(seat.cabin, seat.cabin),
            passenger.first_name,
            passenger.last_name,
            types.get(passenger.type, passenger.type),
            booking.reference,
            booking.get_status_display(),
            f"yes, no. {seat.check_in_number}" if seat.check_in_number else "no",
            getattr(seat, "infant_on_lap", None) or "",
        ]
        yield writer.writerow([spreadsheet_safe(cell) for cell in row])


def manifest_filename(flight: Flight) -> str:
    """ "manifest-AI205-2026-12-06.csv": the flight number and its local departure date."""
    departs = flight.departure_time.astimezone(ZoneInfo(flight.departure_airport.time_zone))
    return f"manifest-{flight.flight_number}-{departs:%Y-%m-%d}.csv"
