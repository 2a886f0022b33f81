"""Cancelling a booking (customer or staff) and cancelling a whole flight (staff)."""

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings import locks
from apps.bookings.exceptions import (
    BookingNotCancellable,
    BookingNotFound,
    FlightNotCancellable,
    PaymentInProgress,
    RefundFailed,
    RefundUnavailable,
    StaffOnly,
)
from apps.bookings.models import Booking
from apps.bookings.services.inventory import seats_release
from apps.core import events
from apps.core.audit import Action, Subject, audit_record
from apps.core.db import retry_on_lock_conflict
from apps.core.exceptions import ApplicationError
from apps.core.request_context import log_context_update
from apps.flights.models import Flight
from apps.flights.search_cache import catalogue_changed

logger = logging.getLogger(__name__)

RefundHandler = Callable[[Booking, User], bool]

_refund_handler: RefundHandler | None = None


def register_refund_handler(handler: RefundHandler) -> None:
    """Let the payments app refund confirmed bookings (bookings must not import payments).

    `handler(booking, actor)` returns True once the booking's payment is refunded, False if the
    refund did not go through; `actor` is who cancels, for the payment's audit trail. It is called
    with no transaction open and no lock held (it talks to the gateway), and must be idempotent:
    two cancels of one booking may both call it.
    """
    global _refund_handler
    _refund_handler = handler


class _RefundNeeded(Exception):
    """The booking was paid between our first look and the lock: refund it before cancelling."""


def booking_cancel(*, booking: Booking, actor: User) -> Booking:
    """Cancel a booking for its owner or for staff, and return it cancelled.

    A held booking gives its seats back; a confirmed one is first refunded through the registered
    refund handler, outside any lock, then gives its seats back. Publishes "booking.cancelled" and
    audits "cancelled" (the owner) or "staff_cancelled" (staff cancelling someone else's booking).

    Raises BookingNotFound (404) for someone else's booking; PaymentInProgress (409) while a payment
    is running; RefundUnavailable (409) for a confirmed booking when no refund handler is
    registered; RefundFailed (503) when the refund did not go through; BookingNotCancellable (409)
    when it is already cancelled or expired, or its flight has departed; Busy (409) on lock conflicts.
    """
    if actor.pk != booking.owner_id and not actor.is_staff:
        raise BookingNotFound()
    log_context_update(booking_reference=booking.reference)
    # Once the flight has left, a cancel would refund a ticket that was (or could have been) flown.
    flight = Flight.objects.only("status", "departure_time").get(pk=booking.flight_id)
    if flight.status == Flight.Status.DEPARTED or flight.departure_time <= timezone.now():
        raise BookingNotCancellable("The flight has departed; the booking can no longer be cancelled.")
    return _booking_cancel(booking, by_airline=False, actor=actor)


def _booking_cancel(booking: Booking, *, by_airline: bool, actor: User) -> Booking:
    status = Booking.objects.values_list("status", flat=True).get(pk=booking.pk)
    _cancellable_ensure(status)
    refunded = status == Booking.Status.CONFIRMED and _refund(booking, actor)
    try:
        return _cancel_locked(booking, refunded=refunded, by_airline=by_airline, actor=actor)
    except _RefundNeeded:
        return _cancel_locked(booking, refunded=_refund(booking, actor), by_airline=by_airline, actor=actor)


def booking_cancel_after_refund(*, booking: Booking, actor: User | None = None) -> Booking:
    """Finish the cancellation of a booking whose payment is already refunded (the reconciler).

    `booking_cancel` refunds first and cancels after; when that second step failed (Busy, a database
    error) the money is back but the booking is still confirmed with its seats. This cancels it as
    refunded: seats released, "booking.cancelled" published, audited with `actor` (None: the
    system), by_airline when its flight is cancelled. Raises BookingNotCancellable (409) when it is
    no longer held or confirmed (a racing cancel finished first), Busy (409) on lock conflicts.
    """
    log_context_update(booking_reference=booking.reference)
    flight_status = Flight.objects.values_list("status", flat=True).get(pk=booking.flight_id)
    return _cancel_locked(
        booking, refunded=True, by_airline=flight_status == Flight.Status.CANCELLED, actor=actor
    )


def _refund(booking: Booking, actor: User) -> bool:
    if _refund_handler is None:
        raise RefundUnavailable("Refunds are not available; the booking is unchanged.")
    if not _refund_handler(booking, actor):
        raise RefundFailed()
    return True


@retry_on_lock_conflict
def _cancel_locked(booking: Booking, *, refunded: bool, by_airline: bool, actor: User | None) -> Booking:
    with transaction.atomic(durable=True):
        locks.flight_lock(flight_id=booking.flight_id)
        locked = locks.booking_lock(booking.pk)
        _cancellable_ensure(locked.status)
        if locked.status == Booking.Status.CONFIRMED and not refunded:
            raise _RefundNeeded()
        now = timezone.now()
        seats_release(flight_id=locked.flight_id, booking_ids=[locked.pk], now=now)
        audit_record(
            action=(
                Action.STAFF_CANCELLED
                if by_airline or (actor is not None and actor.pk != locked.owner_id)
                else Action.CANCELLED
            ),
            subject_type=Subject.BOOKING,
            subject_ref=locked.reference,
            actor=actor,
            detail={"previous_status": locked.status, "refunded": refunded, "by_airline": by_airline},
        )
        locked.status = Booking.Status.CANCELLED
        locked.cancelled_at = now
        locked.save(update_fields=["status", "cancelled_at", "updated_at"])
        events.publish("booking.cancelled", booking=locked, refunded=refunded, by_airline=by_airline)
    return locked


def _cancellable_ensure(status: str) -> None:
    if status == Booking.Status.PAYING:
        raise PaymentInProgress("A payment is in progress; try again in a moment.")
    if status not in (Booking.Status.HELD, Booking.Status.CONFIRMED):
        raise BookingNotCancellable(f"The booking is {status}.")


def flight_cancel(*, flight: Flight, actor: User) -> int:
    """Cancel a flight (staff only) and then each of its active bookings; return how many.

    Confirmed bookings are refunded; each booking publishes "booking.cancelled" with
    by_airline=True and is audited "staff_cancelled"; the flight is audited "flight_cancelled" once.
    A booking whose payment is still running, or whose refund fails, is left active and logged:
    running this again (safe, the flight stays cancelled) finishes the job.

    Raises StaffOnly (403) for non-staff and FlightNotCancellable (409) for a departed flight.
    """
    if not actor.is_staff:
        raise StaffOnly()
    _flight_mark_cancelled(flight, actor=actor)
    cancelled = 0
    for booking in Booking.objects.filter(flight_id=flight.pk, status__in=Booking.ACTIVE_STATUSES).order_by(
        "pk"
    ):
        try:
            _booking_cancel(booking, by_airline=True, actor=actor)
        except BookingNotCancellable:
            continue  # expired or cancelled meanwhile: nothing left to do
        except ApplicationError as error:
            logger.warning(
                "Booking %s of cancelled flight %s left active: %s", booking, flight.pk, error.code
            )
            continue
        cancelled += 1
    return cancelled


@retry_on_lock_conflict
def _flight_mark_cancelled(flight: Flight, *, actor: User) -> None:
    with transaction.atomic(durable=True):
        locked = locks.flight_lock(flight_id=flight.pk)
        if locked.status == Flight.Status.DEPARTED:
            raise FlightNotCancellable("The flight has departed.")
        if locked.status != Flight.Status.CANCELLED:
            locked.status = Flight.Status.CANCELLED
            locked.save(update_fields=["status", "updated_at"])
            audit_record(
                action=Action.FLIGHT_CANCELLED,
                subject_type=Subject.FLIGHT,
                subject_ref=str(locked.pk),
                actor=actor,
                detail={
                    "flight_number": locked.flight_number,
                    "departure_time": locked.departure_time.isoformat(),
                },
            )
            # A cancelled flight must leave search results at once, not after the cache TTL.
            catalogue_changed()
    flight.status = Flight.Status.CANCELLED
