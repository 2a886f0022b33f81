"""Row locks of bookings, through the one locking helper (apps/core/locking.py has the order).

The booking lock is this module's `booking_lock`; payments lock a booking only through it.
"""

from datetime import datetime

from apps.bookings.exceptions import BookingNotFound
from apps.bookings.models import Booking
from apps.core.locking import lock_row, lock_rows
from apps.flights.locks import flight_lock


def booking_lock(*, booking_id: int) -> Booking:
    """Lock one booking (its flight first, if the use case needs that too). Raises BookingNotFound."""
    booking = lock_row(Booking.objects.filter(pk=booking_id))
    if booking is None:
        raise BookingNotFound()
    return booking


def booking_lock_with_flight(*, booking_id: int) -> Booking:
    """Lock a booking's flight, then the booking: for a change that depends on the flight's state
    (cancelling, settling a payment) or moves its seat counter. `booking.flight` is the locked row."""
    flight_id = Booking.objects.values_list("flight_id", flat=True).filter(pk=booking_id).first()
    if flight_id is None:
        raise BookingNotFound()
    flight = flight_lock(flight_id=flight_id)
    booking = booking_lock(booking_id=booking_id)
    booking.flight = flight
    return booking


def overdue_holds_lock(*, flight_id: int, now: datetime, limit: int) -> list[Booking]:
    """Lock up to `limit` overdue holds of one flight (its row locked first), skipping those another
    transaction holds.

    The status and expiry conditions are evaluated on the latest committed row versions, so a
    booking paid, cancelled or expired meanwhile is not returned.
    """
    return lock_rows(
        Booking.objects.filter(
            flight_id=flight_id, status=Booking.Status.HELD, hold_expires_at__lte=now
        ).order_by("pk")[:limit],
        skip_locked=True,
    )
