"""The hold sweeper: overdue holds become EXPIRED and give their seats back."""

from datetime import datetime

from django.utils import timezone

from apps.bookings import events, locks
from apps.bookings.models import Booking
from apps.bookings.services.inventory import seats_release
from apps.bookings.services.lifecycle import status_change_many
from apps.core.audit import Action, Subject, audit_record_many
from apps.core.db import retry_on_lock_conflict
from apps.core.locking import locked_transaction
from apps.flights.locks import flight_lock


def booking_holds_expire(*, batch_size: int = 100) -> int:
    """Expire every hold whose `hold_expires_at` has passed; return how many were expired.

    Candidates are found without locks, then per flight, in batches of `batch_size`, each batch is
    one short transaction: lock the flight, then the overdue holds with SKIP LOCKED (a booking
    being paid or cancelled right now is left for the next run), re-checked under the lock. So two
    sweepers, a cancel and a payment racing release each seat exactly once. A journey's hold (several
    flights) is expired on its own: its flights locked by ascending id, then the booking, re-checked.
    Publishes `booking_expired` for each booking and audits each "expired" with no actor (the system), one
    INSERT per batch.

    Raises Busy (409) when a flight stays locked past the lock wait timeout twice.
    """
    now = timezone.now()
    flight_ids = list(
        Booking.objects.filter(status=Booking.Status.HELD, hold_expires_at__lte=now, segment_count=1)
        .order_by("flight_id")
        .values_list("flight_id", flat=True)
        .distinct()
    )
    journeys = list(
        Booking.objects.filter(status=Booking.Status.HELD, hold_expires_at__lte=now, segment_count__gt=1)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    expired = sum(_journey_expire(booking_id=booking_id, now=now) for booking_id in journeys)
    for flight_id in flight_ids:
        while True:
            batch = _expire_batch(flight_id=flight_id, now=now, batch_size=batch_size)
            expired += batch
            if batch < batch_size:
                break
    return expired


@retry_on_lock_conflict
def _journey_expire(*, booking_id: int, now: datetime) -> int:
    """Expire one overdue hold of several flights; 1 if it was expired, 0 if it changed meanwhile."""
    with locked_transaction():
        booking = locks.booking_lock_with_flight(booking_id=booking_id)
        if booking.status != Booking.Status.HELD or booking.hold_expires_at > now:
            return 0
        for flight in booking.segment_flights:
            seats_release(flight=flight, booking_ids=[booking.pk], now=now)
        _expired([booking], now=now)
    return 1


@retry_on_lock_conflict
def _expire_batch(*, flight_id: int, now: datetime, batch_size: int) -> int:
    with locked_transaction():
        flight = flight_lock(flight_id=flight_id)
        bookings = locks.overdue_holds_lock(flight_id=flight_id, now=now, limit=batch_size)
        if not bookings:
            return 0
        seats_release(flight=flight, booking_ids=[booking.pk for booking in bookings], now=now)
        _expired(bookings, now=now)
    return len(bookings)


def _expired(bookings: list[Booking], *, now: datetime) -> None:
    """Mark locked holds, whose seats are released, expired: one UPDATE, one audit INSERT, the events."""
    status_change_many(bookings, Booking.Status.EXPIRED, now=now)
    audit_record_many(
        action=Action.EXPIRED,
        subject_type=Subject.BOOKING,
        subject_refs=[booking.reference for booking in bookings],
    )
    for booking in bookings:
        events.booking_expired.publish(events.BookingExpired(booking=booking))
