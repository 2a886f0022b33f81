"""The booking state machine: the one place a booking's status changes.

`Booking.TRANSITIONS` lists the allowed changes (docs/ARCHITECTURE.md draws them). Every service
that moves a booking does so through `status_change` (one booking) or `status_change_many` (the
sweeper's batches), on rows it has locked, so a change the machine does not allow is refused with
BookingTransitionRefused wherever it is attempted. `cancel_locked` is the one way a booking ends
cancelled, whoever cancels it.
"""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from apps.accounts.models import User
from apps.bookings import events
from apps.bookings.exceptions import BookingTransitionRefused
from apps.bookings.models import Booking
from apps.bookings.services.inventory import seats_release
from apps.core.audit import Action, Subject, audit_record

Status = Booking.Status

# The moment each final or confirming status is reached is kept on the booking.
_STAMPS = {
    Status.CONFIRMED: "confirmed_at",
    Status.CANCELLED: "cancelled_at",
    Status.EXPIRED: "expired_at",
}


def status_change(booking: Booking, to: str, *, now: datetime) -> None:
    """Move a locked booking to status `to` (stamping when, for a final or confirming status) and save.

    Raises BookingTransitionRefused when Booking.TRANSITIONS does not allow it.
    """
    _transition_ensure(booking, to)
    booking.status = to
    fields = ["status", "updated_at"]
    if stamp := _STAMPS.get(to):
        setattr(booking, stamp, now)
        fields.append(stamp)
    booking.save(update_fields=fields)


def status_change_many(bookings: Sequence[Booking], to: str, *, now: datetime) -> None:
    """`status_change` for a batch of locked bookings, in one UPDATE (the instances are updated too)."""
    for booking in bookings:
        _transition_ensure(booking, to)
    fields = {"status": to, "updated_at": now}
    if stamp := _STAMPS.get(to):
        fields[stamp] = now
    Booking.objects.filter(pk__in=[booking.pk for booking in bookings]).update(**fields)
    for booking in bookings:
        for field, value in fields.items():
            setattr(booking, field, value)


def cancel_locked(
    booking: Booking,
    *,
    refunded: bool,
    by_airline: bool,
    actor: User | None,
    now: datetime,
    refund_amount: Decimal | None = None,
) -> None:
    """Cancel a booking whose flights and booking rows this transaction has locked
    (`booking_lock_with_flight`: `booking.segment_flights` are the locked flight rows).

    Its active seats go back to each flight, the cancel is audited ("staff_cancelled" when the airline
    or staff cancel someone else's booking, otherwise "cancelled"; `actor` None is the system) and
    `booking_cancelled` is published. `refunded`: the booking's payment was or is being refunded, by
    `refund_amount` (None: the whole payment, as when a charge that could not confirm goes back).
    """
    _transition_ensure(booking, Status.CANCELLED)
    for flight in booking.segment_flights:
        seats_release(flight=flight, booking_ids=[booking.pk], now=now)
    audit_record(
        action=(
            Action.STAFF_CANCELLED
            if by_airline or (actor is not None and actor.pk != booking.owner_id)
            else Action.CANCELLED
        ),
        subject_type=Subject.BOOKING,
        subject_ref=booking.reference,
        actor=actor,
        detail={
            "previous_status": booking.status,
            "refunded": refunded,
            "by_airline": by_airline,
            **({"refund_amount": str(refund_amount)} if refunded and refund_amount is not None else {}),
        },
    )
    status_change(booking, Status.CANCELLED, now=now)
    events.booking_cancelled.publish(
        events.BookingCancelled(
            booking=booking, refunded=refunded, by_airline=by_airline, refund_amount=refund_amount
        )
    )


def _transition_ensure(booking: Booking, to: str) -> None:
    if to not in Booking.TRANSITIONS[booking.status]:
        raise BookingTransitionRefused(
            f"Booking {booking.reference} is {booking.status}; it cannot become {to}."
        )
