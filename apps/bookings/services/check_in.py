"""Online check-in: a paid booking's passengers confirmed for boarding, each with a check-in sequence
number on the flight, and on the way a move to another free seat of the same cabin.

It opens CHECK_IN_OPENS_HOURS before departure and closes CHECK_IN_CLOSES_MINUTES before it. Checking
in takes the flight's row lock and then the booking's (the order in docs/ARCHITECTURE.md), like a hold:
a seat move reads the taken seats from the locked row, so two passengers racing for one free seat get
it once, and sequence numbers are handed out one flight at a time, so no two passengers share one.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings import events
from apps.bookings.exceptions import BookingNotFound, CheckInUnavailable, SeatUnavailable, SeatUnknown
from apps.bookings.locks import booking_lock_with_flight
from apps.bookings.models import Booking, SeatAssignment
from apps.core.audit import audit_record
from apps.core.db import retry_on_lock_conflict
from apps.core.exceptions import ValidationFailed
from apps.core.locking import locked_transaction
from apps.core.request_context import log_context_update
from apps.flights.models import Flight
from apps.flights.seating import airplane_layout, is_taken, layout_seats
from apps.flights.services.seats import flight_seats_return, flight_seats_take


@dataclass(frozen=True, slots=True)
class CheckInWindow:
    opens_at: datetime
    closes_at: datetime

    def state(self, now: datetime) -> str:
        """ "not_yet", "open" or "closed" at `now`."""
        if now < self.opens_at:
            return "not_yet"
        return "open" if now < self.closes_at else "closed"


def check_in_window(flight: Flight) -> CheckInWindow:
    return CheckInWindow(
        opens_at=flight.departure_time - timedelta(hours=settings.CHECK_IN_OPENS_HOURS),
        closes_at=flight.departure_time - timedelta(minutes=settings.CHECK_IN_CLOSES_MINUTES),
    )


def check_in_refusal(booking: Booking, flight: Flight, now: datetime) -> str | None:
    """Why `booking` cannot be checked in at `now` (a sentence), or None when it can."""
    if booking.status != Booking.Status.CONFIRMED:
        return "Only a paid booking can be checked in."
    if flight.status != Flight.Status.SCHEDULED:
        return f"The flight is {flight.get_status_display().lower()}."
    window = check_in_window(flight)
    state = window.state(now)
    if state == "not_yet":
        return "Online check-in is not open yet."
    if state == "closed":
        return "Online check-in has closed for this flight."
    return None


@retry_on_lock_conflict
def booking_check_in(
    *,
    booking: Booking,
    actor: User,
    passenger_positions: Sequence[int],
    seats: Mapping[int, str] | None = None,
    segment: int = 1,
) -> Booking:
    """Check in the passengers of `booking` at `passenger_positions` (1-based, as on the booking) for
    the flight of its segment `segment` (1-based: a journey's flights are checked in one by one, each
    in its own window), first moving those named in `seats` (position → seat code) to that free seat
    of their cabin on that flight.

    Passengers already checked in keep their sequence number (checking in twice changes nothing);
    a seat move of one is allowed while check-in is open. Publishes "booking.checked_in" with the
    passengers checked in now, and audits "checked_in".

    An infant has no seat and no pass of its own: it is listed on its adult's boarding pass
    (apps/bookings/boarding.py), and naming it here is refused.

    Raises BookingNotFound (404) for someone else's booking; ValidationFailed (400) for no passenger,
    an unknown one or segment, an infant, or one seat asked twice; CheckInUnavailable (409) outside
    the window or for a booking not paid; SeatUnknown (422) for a seat not on the airplane or in
    another cabin; SeatUnavailable (409) for a seat taken; Busy (409) on lock conflicts.
    """
    if actor.pk != booking.owner_id:
        raise BookingNotFound()
    log_context_update(booking_reference=booking.reference)
    wanted = sorted(set(passenger_positions))
    if not wanted:
        raise ValidationFailed("Choose who to check in.", errors={"passengers": ["Choose at least one."]})
    seats = dict(seats or {})
    codes = [code for code in seats.values()]
    if len(set(codes)) != len(codes):
        raise ValidationFailed(
            "Each seat can go to one passenger.", errors={"seats": ["A seat is asked twice."]}
        )

    with locked_transaction():
        locked = booking_lock_with_flight(booking_id=booking.pk)
        if not 1 <= segment <= len(locked.segment_flights):
            raise ValidationFailed(
                "No such flight on this booking.", errors={"segment": [f"No flight {segment}."]}
            )
        flight, now = locked.segment_flights[segment - 1], timezone.now()
        refusal = check_in_refusal(locked, flight, now)
        if refusal:
            raise CheckInUnavailable(refusal)
        passengers = {
            passenger.position: passenger
            for passenger in locked.passengers.prefetch_related("seat_assignments").order_by("position")
        }
        unknown = [position for position in [*wanted, *seats] if position not in passengers]
        if unknown:
            raise ValidationFailed(
                "No such passenger on this booking.", errors={"passengers": [f"No passenger {unknown[0]}."]}
            )
        infants = [position for position in [*wanted, *seats] if passengers[position].is_infant]
        if infants:
            infant = passengers[infants[0]]
            message = (
                f"{infant.label()}: checked in with passenger {infant.travelling_with}, on whose boarding "
                "pass the infant is listed."
            )
            raise ValidationFailed(message, errors={"passengers": [message]})
        moved = _seats_move(
            flight, [(passengers[position].seat_on(segment), code) for position, code in seats.items()]
        )
        arriving = [
            passengers[position]
            for position in wanted
            if passengers[position].seat_on(segment).checked_in_at is None
        ]
        _numbers_give(flight, [passenger.seat_on(segment) for passenger in arriving], now)
        audit_record(
            action="checked_in",
            subject_type="booking",
            subject_ref=locked.reference,
            actor=actor,
            detail={
                "flight_id": flight.pk,
                "passengers": [passenger.position for passenger in arriving],
                "seats_moved": moved,
            },
        )
        if arriving:
            events.booking_checked_in.publish(
                events.BookingCheckedIn(booking=locked, passengers=arriving, segment=segment)
            )
    return locked


def _seats_move(flight: Flight, moves: list[tuple[SeatAssignment, str]]) -> dict[str, str]:
    """Move each seat assignment to the seat given (same cabin, free in the locked row's marks); old → new."""
    moves = [(assignment, code) for assignment, code in moves if assignment.seat_code != code]
    if not moves:
        return {}
    by_code = {
        seat.code: seat
        for seat in layout_seats(airplane_layout(flight.airplane_id, flight.airplane.updated_at))
    }
    old_seats, new_seats = [], []
    for assignment, code in moves:
        seat = by_code.get(code)
        if seat is None or seat.cabin != assignment.cabin:
            raise SeatUnknown(
                f"Seat {code} is not a seat of this cabin.",
                errors={"seats": [f"Seat {code} is not in the {assignment.get_cabin_display()} cabin."]},
            )
        if is_taken(flight.seats_taken, seat.position):
            raise SeatUnavailable(f"Seat {code} is taken.", errors={"seats": [f"Seat {code} is taken."]})
        old_seats.append(by_code[assignment.seat_code])
        new_seats.append(seat)
    flight_seats_return(flight=flight, positions=[seat.position for seat in old_seats])
    flight_seats_take(flight=flight, positions=[seat.position for seat in new_seats])
    moved = {}
    for (assignment, _), seat in zip(moves, new_seats, strict=True):
        moved[assignment.seat_code] = seat.code
        assignment.seat_code = seat.code
        assignment.save(update_fields=["seat_code"])
    return moved


def _numbers_give(flight: Flight, seats: list[SeatAssignment], now: datetime) -> None:
    """The flight's next check-in sequence numbers, in passenger order (the flight row is locked)."""
    if not seats:
        return
    last = SeatAssignment.objects.filter(flight_id=flight.pk).aggregate(last=Max("check_in_number"))["last"]
    for number, seat in enumerate(seats, start=(last or 0) + 1):
        seat.checked_in_at, seat.check_in_number = now, number
    SeatAssignment.objects.bulk_update(seats, ["checked_in_at", "check_in_number"])
