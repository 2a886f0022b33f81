"""Domain events → outbox rows, written inside the publisher's transaction (apps/core/events.py)."""

from typing import Any

from apps.bookings.models import Booking
from apps.core import events
from apps.notifications.models import Notification
from apps.notifications.services import notifications_create

Kind = Notification.Kind


def on_booking_held(*, booking: Booking) -> None:
    notifications_create(booking=booking, kinds=[Kind.BOOKING_HELD])


def on_booking_confirmed(*, booking: Booking, payment: Any) -> None:
    notifications_create(
        booking=booking, kinds=[Kind.BOOKING_CONFIRMED, Kind.PAYMENT_RECEIPT], payment=payment
    )


def on_booking_cancelled(*, booking: Booking, refunded: bool, by_airline: bool) -> None:
    kind = Kind.FLIGHT_CANCELLED if by_airline else Kind.BOOKING_CANCELLED
    notifications_create(booking=booking, kinds=[kind], refunded=refunded)


def on_booking_expired(*, booking: Booking) -> None:
    notifications_create(booking=booking, kinds=[Kind.HOLD_EXPIRED])


def subscribe_all() -> None:
    events.subscribe("booking.held", on_booking_held)
    events.subscribe("booking.confirmed", on_booking_confirmed)
    events.subscribe("booking.cancelled", on_booking_cancelled)
    events.subscribe("booking.expired", on_booking_expired)
