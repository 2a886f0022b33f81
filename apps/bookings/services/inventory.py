"""Giving seats back to a flight: the one place the seat counter goes up."""

from collections.abc import Sequence
from datetime import datetime

from django.db.models import F

from apps.bookings.models import SeatAssignment
from apps.flights.models import Flight


def seats_release(*, flight_id: int, booking_ids: Sequence[int], now: datetime) -> int:
    """Release the active seats of some bookings of one flight and return them to its counter.

    The caller holds the flight's lock and has re-checked the bookings' status under it. Only rows
    still active are released and the counter moves by exactly that row count, so a seat is never
    given back twice.
    """
    released = SeatAssignment.objects.filter(booking_id__in=booking_ids, active=True).update(
        active=None, released_at=now
    )
    if released:
        Flight.objects.filter(pk=flight_id).update(
            available_seats=F("available_seats") + released, version=F("version") + 1
        )
    return released
