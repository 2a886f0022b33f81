"""Cancelling a booking (its owner or staff), and the bookings of a flight the airline cancelled."""

import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings import locks
from apps.bookings.exceptions import (
    BookingNotCancellable,
    BookingNotFound,
    PaymentInProgress,
    QuoteChanged,
    RefundFailed,
    RefundUnavailable,
)
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.selectors import booking_money_record, staff_sees_all_bookings
from apps.bookings.services.check_in import check_in_window
from apps.bookings.services.lifecycle import cancel_locked
from apps.bookings.services.quotes import cancellation_quote
from apps.core.db import retry_on_lock_conflict
from apps.core.exceptions import ApplicationError, PermissionDenied
from apps.core.locking import locked_transaction
from apps.core.permissions import staff_may
from apps.core.request_context import log_context_update
from apps.flights.events import FlightCancelled
from apps.flights.models import Flight

logger = logging.getLogger(__name__)

RefundHandler = Callable[[Booking, User | None, Decimal], bool]
RefundReserver = Callable[[Booking, User | None, Decimal], None]

_refund_handler: RefundHandler | None = None
_refund_reserver: RefundReserver | None = None


def register_refund_handler(handler: RefundHandler) -> None:
    """Let the payments app refund confirmed bookings (bookings must not import payments).

    `handler(booking, actor, amount)` refunds exactly `amount` of the booking's payment (the
    cancellation quote's amount: all of it, part of it under the fare rules, or 0, which settles the
    payment with nothing given back) and returns True once refunded, False if the refund did not go
    through; `actor` is who cancels, for the payment's audit trail. It is called with no transaction
    open and no lock held (it talks to the gateway), and must be idempotent: two cancels of one booking
    may both call it, with the same amount, and the payment is refunded once.
    """
    global _refund_handler
    _refund_handler = handler


def register_refund_reserver(reserver: RefundReserver) -> None:
    """Let the payments app decide a cancellation's refund before it is made.

    `reserver(booking, actor, amount)` is called inside the cancel's locked transaction, after the
    booking's lock and the quote taken again under it, with the quote's amount: it writes which of the
    booking's payments give back how much (pending refunds), so a flight change, which takes the same
    locks, sees that the cancellation has begun and leaves the booking alone, and the amount is decided
    on the booking as it is at that moment (docs/FARES.md, "Changing a flight"). Deciding again for a
    booking decided already changes nothing.
    """
    global _refund_reserver
    _refund_reserver = reserver


class _RefundNeeded(Exception):
    """The booking was paid between our first look and the lock: refund it before cancelling."""


def booking_cancel(*, booking: Booking, actor: User, expected_refund: Decimal | None = None) -> Booking:
    """Cancel a booking for its owner or for staff holding bookings.change_booking (what the admin's
    cancel action asks), and return it cancelled.

    A held booking gives its seats back; a confirmed one is first refunded through the registered
    refund handler, outside any lock, by the amount of its cancellation quote (apps/bookings/services/
    quotes.py: the fare rules for the owner, in full for staff), then gives its seats back. With
    `expected_refund` (the amount the traveller was quoted), a different amount now raises QuoteChanged
    (409) before anything is refunded or released. Publishes "booking.cancelled" and
    audits "cancelled" (the owner) or "staff_cancelled" (staff cancelling someone else's booking).

    Someone else's booking needs bookings.change_booking: without it, staff who may see the booking
    (`staff_sees_all_bookings`) are refused (PermissionDenied, 403); to anyone else it does not exist.

    Raises BookingNotFound (404) or PermissionDenied (403) as said; PaymentInProgress (409) while a payment
    is running; RefundUnavailable (409) for a confirmed booking when no refund handler is
    registered; RefundFailed (503) when the refund did not go through; BookingNotCancellable (409)
    when it is already cancelled or expired, or its flight has departed, or (for
    its owner) when passengers are checked in and check-in has closed; Busy (409) on lock conflicts.
    """
    if actor.pk != booking.owner_id and not staff_may(actor, "bookings.change_booking"):
        if staff_sees_all_bookings(actor):
            raise PermissionDenied("Cancelling another customer's booking needs bookings.change_booking.")
        raise BookingNotFound()
    log_context_update(booking_reference=booking.reference)
    flight = Flight.objects.only("status", "departure_time").get(pk=booking.flight_id)
    refusal = booking_cancel_refusal(booking, flight, timezone.now(), by_owner=actor.pk == booking.owner_id)
    if refusal:
        raise BookingNotCancellable(refusal)
    return _booking_cancel(booking, by_airline=False, actor=actor, expected_refund=expected_refund)


def booking_cancel_refusal(booking: Booking, flight: Flight, now: datetime, *, by_owner: bool) -> str | None:
    """Why the flight's time rules refuse cancelling `booking` at `now` (a sentence), or None.
    `flight` is the journey's first flight: once it has left, the journey is under way.

    Once the flight has left, a cancel would refund a ticket that was (or could have been) flown. Once
    check-in has closed with passengers checked in, they are expected at the gate: the airline decides,
    not the owner online. (The booking's own state is checked under its lock when cancelling.)
    """
    if flight.has_departed(now):
        return "The flight has departed; the booking can no longer be cancelled."
    if (
        by_owner
        and now >= check_in_window(flight).closes_at
        and booking.seat_assignments.filter(flight_id=flight.pk, checked_in_at__isnull=False).exists()
    ):
        return "Check-in has closed and passengers are checked in; ask the airline."
    return None


def _booking_cancel(
    booking: Booking, *, by_airline: bool, actor: User | None, expected_refund: Decimal | None = None
) -> Booking:
    # The fare rules bind the traveller's own cancellation only: staff and the airline refund in full.
    rules_apply = not by_airline and actor is not None and actor.pk == booking.owner_id
    status = Booking.objects.values_list("status", flat=True).get(pk=booking.pk)
    _cancellable_ensure(status)
    amount = _refund_due(booking, status, rules_apply=rules_apply, expected=expected_refund)
    refunded = False
    if status == Booking.Status.CONFIRMED:
        amount = _refund_decide(booking, actor, rules_apply=rules_apply, expected=expected_refund)
        refunded = _refund(booking, actor, amount)
    try:
        return _cancel_locked(
            booking, refunded=refunded, refund_amount=amount, by_airline=by_airline, actor=actor
        )
    except _RefundNeeded:
        amount = _refund_decide(booking, actor, rules_apply=rules_apply, expected=expected_refund)
        return _cancel_locked(
            booking,
            refunded=_refund(booking, actor, amount),
            refund_amount=amount,
            by_airline=by_airline,
            actor=actor,
        )


def _refund_due(booking: Booking, status: str, *, rules_apply: bool, expected: Decimal | None) -> Decimal:
    """What cancelling `booking` in `status` refunds now; QuoteChanged when that is not `expected`."""
    quote = cancellation_quote(booking, status=status, rules_apply=rules_apply)
    if expected is not None and quote.amount != expected:
        raise QuoteChanged(
            f"Cancelling now refunds {quote.amount} {quote.currency}, not the {expected} quoted; "
            "the booking is unchanged. Ask for a new quote."
        )
    return quote.amount


@retry_on_lock_conflict
def _refund_decide(
    booking: Booking, actor: User | None, *, rules_apply: bool, expected: Decimal | None
) -> Decimal:
    """Decide what cancelling the confirmed `booking` refunds, under its lock: the quote taken again
    there (a flight change that committed since the first look is in it; QuoteChanged when that is not
    `expected`), and the refund reserver told (`register_refund_reserver`). Returns the amount."""
    if _refund_handler is None:
        raise RefundUnavailable("Refunds are not available; the booking is unchanged.")
    with locked_transaction():
        locked = locks.booking_lock(booking_id=booking.pk)
        _cancellable_ensure(locked.status)
        amount = _refund_due(locked, locked.status, rules_apply=rules_apply, expected=expected)
        if locked.status == Booking.Status.CONFIRMED and _refund_reserver is not None:
            _refund_reserver(locked, actor, amount)
    return amount


def booking_cancel_after_refund(*, booking: Booking, actor: User | None = None) -> Booking:
    """Finish the cancellation of a booking whose payment is already refunded (the reconciler).

    `booking_cancel` refunds first and cancels after; when that second step failed (Busy, a database
    error) the money is back but the booking is still confirmed with its seats. This cancels it as
    refunded: seats released, "booking.cancelled" published, audited with `actor` (None: the
    system), by_airline when its flight is cancelled. Raises BookingNotCancellable (409) when it is
    no longer held or confirmed (a racing cancel finished first), Busy (409) on lock conflicts.
    """
    log_context_update(booking_reference=booking.reference)
    refunded = booking_money_record(booking).refunded
    return _cancel_locked(booking, refunded=True, refund_amount=refunded, by_airline=None, actor=actor)


def _refund(booking: Booking, actor: User | None, amount: Decimal) -> bool:
    if _refund_handler is None:
        raise RefundUnavailable("Refunds are not available; the booking is unchanged.")
    if not _refund_handler(booking, actor, amount):
        raise RefundFailed()
    return True


@retry_on_lock_conflict
def _cancel_locked(
    booking: Booking,
    *,
    refunded: bool,
    refund_amount: Decimal | None,
    by_airline: bool | None,
    actor: User | None,
) -> Booking:
    """`by_airline` None: the flight's state decides (cancelled flight → cancelled by the airline).
    `refund_amount`: what the refund gave back, when `refunded`."""
    with locked_transaction():
        locked = locks.booking_lock_with_flight(booking_id=booking.pk)
        _cancellable_ensure(locked.status)
        if locked.status == Booking.Status.CONFIRMED and not refunded:
            raise _RefundNeeded()
        if by_airline is None:
            by_airline = locked.flight.status == Flight.Status.CANCELLED
        cancel_locked(
            locked,
            refunded=refunded,
            refund_amount=refund_amount if refunded else None,
            by_airline=by_airline,
            actor=actor,
            now=timezone.now(),
        )
    return locked


def _cancellable_ensure(status: str) -> None:
    if status == Booking.Status.PAYING:
        raise PaymentInProgress("A payment is in progress; try again in a moment.")
    if status not in (Booking.Status.HELD, Booking.Status.CONFIRMED):
        raise BookingNotCancellable(f"The booking is {status}.")


def flight_bookings_cancel(*, flight_id: int, actor: User | None) -> int:
    """Cancel, by the airline, every held or confirmed booking of a cancelled flight; return how many.

    Confirmed bookings are refunded first. Each publishes `booking_cancelled` with by_airline=True
    and is audited "staff_cancelled" (`actor` None: the system). A booking being paid is cancelled
    when its payment ends (apps/bookings/services/paying.py); one whose refund fails, or whose rows
    stay locked, is left for `cancelled_flights_finish`. Safe to run twice or concurrently.
    """
    cancelled = 0
    # Every booking with a seat on the flight, whichever segment of its journey the flight is: the
    # whole journey is cancelled and refunded.
    active = (
        Booking.objects.filter(seat_assignments__flight_id=flight_id, status__in=Booking.ACTIVE_STATUSES)
        .distinct()
        .order_by("pk")
    )
    for booking in active:
        try:
            _booking_cancel(booking, by_airline=True, actor=actor)
        except BookingNotCancellable:
            continue  # expired or cancelled meanwhile: nothing left to do
        except ApplicationError as error:
            logger.warning(
                "Booking %s of cancelled flight %s left for now: %s", booking, flight_id, error.code
            )
            continue
        cancelled += 1
    return cancelled


def on_flight_cancelled(event: FlightCancelled) -> None:
    """When the airline cancels a flight, cancel its bookings once that change commits (they talk to
    the payment gateway, which must never be called inside a transaction)."""
    flight_id, actor = event.flight.pk, event.actor
    transaction.on_commit(lambda: flight_bookings_cancel(flight_id=flight_id, actor=actor), robust=True)


def cancelled_flights_finish() -> int:
    """Cancel the bookings that cancelled flights still have (a refund that failed, a payment that
    ended after the flight's cancel, a crash after it committed); return how many were cancelled."""
    flight_ids = (
        SeatAssignment.objects.filter(
            flight__status=Flight.Status.CANCELLED,
            booking__status__in=[Booking.Status.HELD, Booking.Status.CONFIRMED],
        )
        .order_by("flight_id")
        .values_list("flight_id", flat=True)
        .distinct()
    )
    return sum(flight_bookings_cancel(flight_id=flight_id, actor=None) for flight_id in flight_ids)
