"""Giving a booking's seats back to its flight: the one place seat assignments are released."""

from collections.abc import Sequence
from datetime import datetime

from apps.bookings.models import SeatAssignment
from apps.flights.models import Flight
from apps.flights.seating import airplane_positions
from apps.flights.services.seats import flight_seats_return


def seats_release(*, flight: Flight, booking_ids: Sequence[int], now: datetime) -> int:
    """Release the active seats of some bookings on one flight and give them back to it; how many.

    `flight` is the row the caller locked, after re-checking the bookings' status under that lock.
    Only rows still active are released and the inventory moves by exactly those seats, so a seat
    is never given back twice.
    """
    released = list(
        SeatAssignment.objects.filter(
            booking_id__in=booking_ids, flight_id=flight.pk, active=True
        ).values_list("pk", "seat_code")
    )
    if not released:
        return 0
    SeatAssignment.objects.filter(pk__in=[pk for pk, _ in released]).update(active=None, released_at=now)
    positions = airplane_positions(flight.airplane_id)
    flight_seats_return(flight=flight, positions=[positions[code] for _, code in released])
    return len(released)
