"""The only place that builds select_for_update querysets for bookings (STYLE rule 4).

Lock order, everywhere: flight → booking(s), bookings by primary key (SPEC §4.3). Payments lock a
booking and then its payment and never wait for the flight while holding them, so no two use cases
wait on each other in a cycle. The flight lock is the catalogue's own (apps.flights.locks).
"""

from datetime import datetime

from apps.bookings.models import Booking
from apps.flights.locks import flight_lock

__all__ = ["booking_lock", "flight_lock", "overdue_holds_lock"]


def booking_lock(booking_id: int) -> Booking:
    """Lock one booking; the caller holds its flight's lock already."""
    return Booking.objects.select_for_update().get(pk=booking_id)


def overdue_holds_lock(*, flight_id: int, now: datetime, limit: int) -> list[Booking]:
    """Lock up to `limit` overdue holds of one flight, skipping those another transaction holds.

    The status and expiry conditions are evaluated on the latest committed row versions, so a
    booking paid, cancelled or expired meanwhile is not returned.
    """
    return list(
        Booking.objects.select_for_update(skip_locked=True)
        .filter(flight_id=flight_id, status=Booking.Status.HELD, hold_expires_at__lte=now)
        .order_by("pk")[:limit]
    )
