"""Boarding passes: what a checked-in passenger shows at the gate, with the barcode airports scan.

The barcode carries an IATA Bar Coded Boarding Pass (BCBP, Resolution 792) string in its "M" format
with one leg and only the mandatory items (60 characters, fixed positions; `BCBP_FIELDS`), encoded as
a QR code, one of the symbologies the resolution allows for passes shown on a phone, so any phone
scanner reads it too.
"""

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import segno
from django.urls import reverse

from apps.bookings.models import Booking, Passenger, SeatAssignment
from apps.flights.models import Cabin, Flight

# Boarding starts this long before departure (the e-ticket asks travellers to be at the gate by then).
BOARDING_MINUTES_BEFORE_DEPARTURE = 30

COMPARTMENT_CODES = {Cabin.FIRST: "F", Cabin.BUSINESS: "J", Cabin.PREMIUM_ECONOMY: "W", Cabin.ECONOMY: "Y"}
PASSENGER_CHECKED_IN = "1"  # BCBP passenger status: ticket issued, passenger checked in

# (name, width) of each mandatory item, in order: the string is their concatenation.
BCBP_FIELDS = (
    ("format_code", 1),
    ("legs", 1),
    ("passenger_name", 20),
    ("electronic_ticket", 1),
    ("pnr", 7),
    ("from_airport", 3),
    ("to_airport", 3),
    ("carrier", 3),
    ("flight_number", 5),
    ("julian_date", 3),
    ("compartment", 1),
    ("seat", 4),
    ("check_in_number", 5),
    ("passenger_status", 1),
    ("conditional_size", 2),
)


@dataclass(frozen=True, slots=True)
class BoardingPass:
    passenger: Passenger
    flight: Flight
    segment: int  # which flight of the booking's journey (1-based)
    reference: str
    seat_code: str
    cabin: str
    check_in_number: int
    boarding_at: datetime
    bcbp: str
    # The infant on this passenger's lap, listed on the pass as an "INF" line (an infant has no seat,
    # so no pass of its own: docs/PASSENGERS.md).
    infant: Passenger | None = None

    @property
    def qr_svg(self) -> str:
        """The barcode as inline SVG markup (no script, no style: it renders under the site's CSP)."""
        return segno.make(self.bcbp, error="m").svg_inline(scale=4, dark="#000", light="#fff", omitsize=True)

    def qr_png(self) -> bytes:
        """The barcode as a PNG image, for the e-mail."""
        buffer = io.BytesIO()
        segno.make(self.bcbp, error="m").save(buffer, kind="png", scale=6, dark="#000", light="#fff")
        return buffer.getvalue()


def boarding_pass_path(booking: Booking, boarding: "BoardingPass") -> str:
    """Where the website shows a pass (the first flight's keep their one-flight address)."""
    if boarding.segment == 1:
        return reverse("bookings:boarding_pass", args=[booking.reference, boarding.passenger.position])
    return reverse(
        "bookings:boarding_pass_on", args=[booking.reference, boarding.segment, boarding.passenger.position]
    )


def boarding_passes(booking: Booking) -> list[BoardingPass]:
    """The passes of `booking`'s checked-in passengers, by flight of the journey, then passenger order."""
    seats = (
        SeatAssignment.objects.filter(booking_id=booking.pk, check_in_number__isnull=False)
        .select_related("passenger", "flight__departure_airport", "flight__arrival_airport")
        .order_by("segment", "passenger__position")
    )
    infants = _infants_by_adult(booking)
    return [boarding_pass(booking, seat, infants=infants) for seat in seats]


def _infants_by_adult(booking: Booking) -> dict[int, Passenger]:
    """The booking's infants by the position of the adult each travels with."""
    return {
        infant.travelling_with: infant
        for infant in Passenger.objects.filter(booking_id=booking.pk, type=Passenger.Type.INFANT)
    }


def boarding_pass(
    booking: Booking, seat: SeatAssignment, *, infants: dict[int, Passenger] | None = None
) -> BoardingPass:
    """The pass of one checked-in seat assignment (its passenger and flight with airports loaded);
    `infants` by their adult's position (`_infants_by_adult`; read here when not given)."""
    passenger, flight = seat.passenger, seat.flight
    if infants is None:
        infants = _infants_by_adult(booking)
    origin = flight.departure_airport
    local_departure = flight.departure_time.astimezone(ZoneInfo(origin.time_zone))
    return BoardingPass(
        passenger=passenger,
        flight=flight,
        segment=seat.segment,
        reference=booking.reference,
        seat_code=seat.seat_code,
        cabin=seat.cabin,
        check_in_number=seat.check_in_number,
        boarding_at=flight.departure_time - timedelta(minutes=BOARDING_MINUTES_BEFORE_DEPARTURE),
        bcbp=bcbp_string(
            last_name=passenger.last_name,
            first_name=passenger.first_name,
            reference=booking.reference,
            from_airport=origin.iata_code,
            to_airport=flight.arrival_airport.iata_code,
            flight_number=flight.flight_number,
            day_of_year=local_departure.timetuple().tm_yday,
            cabin=seat.cabin,
            seat_code=seat.seat_code,
            check_in_number=seat.check_in_number,
        ),
        infant=infants.get(passenger.position),
    )


def bcbp_string(
    *,
    last_name: str,
    first_name: str,
    reference: str,
    from_airport: str,
    to_airport: str,
    flight_number: str,
    day_of_year: int,
    cabin: str,
    seat_code: str,
    check_in_number: int,
) -> str:
    """The mandatory items of a one-leg BCBP ("M1…"), each padded to its width (`BCBP_FIELDS`)."""
    row, letter = re.fullmatch(r"(\d+)([A-Z])", seat_code).groups()
    values = {
        "format_code": "M",
        "legs": "1",
        "passenger_name": _bcbp_name(last_name, first_name),
        "electronic_ticket": "E",
        "pnr": reference,
        "from_airport": from_airport,
        "to_airport": to_airport,
        "carrier": flight_number[:2],
        "flight_number": flight_number[2:].zfill(4),
        "julian_date": f"{day_of_year:03d}",
        "compartment": COMPARTMENT_CODES[cabin],
        "seat": f"{int(row):03d}{letter}",
        "check_in_number": f"{check_in_number:04d}",
        "passenger_status": PASSENGER_CHECKED_IN,
        "conditional_size": "00",
    }
    return "".join(values[name].ljust(width)[:width] for name, width in BCBP_FIELDS)


def bcbp_fields(text: str) -> dict[str, str]:
    """The items of a BCBP string made by `bcbp_string`, by name, with their padding."""
    fields, start = {}, 0
    for name, width in BCBP_FIELDS:
        fields[name] = text[start : start + width]
        start += width
    return fields


def _bcbp_name(last_name: str, first_name: str) -> str:
    """SURNAME/GIVEN in upper-case ASCII letters (accents dropped, other characters removed)."""

    def ascii_upper(text: str) -> str:
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return re.sub(r"[^A-Z \-]", "", plain.upper()).strip()

    return f"{ascii_upper(last_name)}/{ascii_upper(first_name)}"
