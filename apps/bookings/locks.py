"""Row locks of bookings, through the one locking helper (apps/core/locking.py has the order).

The booking lock is this module's `booking_lock`; payments lock a booking only through it.
"""

from datetime import datetime

from apps.bookings.exceptions import BookingNotFound
from apps.bookings.models import Booking, SeatAssignment
from apps.core.locking import LockedRowsChanged, lock_row, lock_rows
from apps.flights.locks import flights_lock
from apps.flights.models import Flight


def booking_lock(*, booking_id: int) -> Booking:
    """Lock one booking (its flight first, if the use case needs that too). Raises BookingNotFound."""
    booking = lock_row(Booking.objects.filter(pk=booking_id))
    if booking is None:
        raise BookingNotFound()
    return booking


def booking_lock_with_flight(*, booking_id: int) -> Booking:
    """Lock a booking's flights (every segment's, by ascending id), then the booking: for a change that
    depends on the flights' state (cancelling, settling a payment) or moves their seat counters.

    `booking.flight` is the first flight's locked row and `booking.segment_flights` every segment's,
    in journey order. Raises BookingNotFound, or LockedRowsChanged when the booking was moved to another
    flight between reading its flights and locking it (`retry_on_lock_conflict` runs the use case again).
    """
    booking, _ = _booking_lock_with_flights(booking_id=booking_id, also_flight_ids=[])
    return booking


def booking_lock_for_move(*, booking_id: int, to_flight_id: int) -> tuple[Booking, Flight]:
    """Lock a booking's flights and the flight one of its segments moves to, all by ascending id (the
    new flight may come before or between them), then the booking: the locks of a segment move
    (apps/bookings/services/changes.py). Returns the booking as `booking_lock_with_flight` does and the
    new flight's locked row. Raises BookingNotFound, FlightNotFound, LockedRowsChanged.
    """
    booking, flights = _booking_lock_with_flights(booking_id=booking_id, also_flight_ids=[to_flight_id])
    return booking, flights[to_flight_id]


def _booking_lock_with_flights(
    *, booking_id: int, also_flight_ids: list[int]
) -> tuple[Booking, dict[int, Flight]]:
    row = Booking.objects.values_list("flight_id", "segment_count").filter(pk=booking_id).first()
    if row is None:
        raise BookingNotFound()
    flight_id, segment_count = row
    flight_ids = [flight_id] if segment_count == 1 else booking_flight_ids(booking_id=booking_id)
    flights = {flight.pk: flight for flight in flights_lock(flight_ids=[*flight_ids, *also_flight_ids])}
    booking = booking_lock(booking_id=booking_id)
    # The flights were read before the booking's lock: a segment move that committed meanwhile (it held
    # the booking's lock) changed them, and their rows can no longer be locked after the booking's.
    moved = booking.flight_id != flight_id or (
        segment_count > 1 and booking_flight_ids(booking_id=booking_id) != flight_ids
    )
    if moved:
        raise LockedRowsChanged(f"Booking {booking_id} moved to another flight while it was being locked.")
    booking.flight = flights[flight_id]
    booking.segment_flights = [flights[pk] for pk in flight_ids]
    return booking, flights


def booking_flight_ids(*, booking_id: int) -> list[int]:
    """The flight of each segment of a booking, in journey order (read from its seat assignments)."""
    pairs = (
        SeatAssignment.objects.filter(booking_id=booking_id)
        .values_list("segment", "flight_id")
        .distinct()
        .order_by("segment")
    )
    return [flight_id for _, flight_id in pairs]


def overdue_holds_lock(*, flight_id: int, now: datetime, limit: int) -> list[Booking]:
    """Lock up to `limit` overdue one-flight holds of one flight (its row locked first), skipping those
    another transaction holds (a journey's holds are expired one by one: `booking_lock_with_flight`).

    The status and expiry conditions are evaluated on the latest committed row versions, so a
    booking paid, cancelled or expired meanwhile is not returned.
    """
    return lock_rows(
        Booking.objects.filter(
            flight_id=flight_id, segment_count=1, status=Booking.Status.HELD, hold_expires_at__lte=now
        ).order_by("pk")[:limit],
        skip_locked=True,
    )
