"""Giving a booking's seats back to its flight: the one place seat assignments are released."""

from collections.abc import Sequence
from datetime import datetime

from apps.bookings.models import SeatAssignment
from apps.flights.services.seats import flight_seats_return


def seats_release(*, flight_id: int, booking_ids: Sequence[int], now: datetime) -> int:
    """Release the active seats of some bookings of one flight and return them to its counter.

    The caller holds the flight's lock and has re-checked the bookings' status under it. Only rows
    still active are released and the counter moves by exactly that row count, so a seat is never
    given back twice.
    """
    released = SeatAssignment.objects.filter(booking_id__in=booking_ids, active=True).update(
        active=None, released_at=now
    )
    flight_seats_return(flight_id=flight_id, count=released)
    return released
