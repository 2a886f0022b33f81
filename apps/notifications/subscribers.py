"""Booking and account events → outbox rows, written inside the publisher's transaction
(apps/core/events.py)."""

from apps.accounts import events as account_events
from apps.bookings import events
from apps.notifications.models import Notification
from apps.notifications.services import (
    boarding_passes_notification_write,
    flight_changed_notification_write,
    notification_bare_create,
    notifications_create,
    password_reset_notification_create,
)

Kind = Notification.Kind


def on_booking_held(event: events.BookingHeld) -> None:
    notification_bare_create(booking=event.booking, kind=Kind.BOOKING_HELD)


def on_booking_confirmed(event: events.BookingConfirmed) -> None:
    notifications_create(
        booking=event.booking, kinds=[Kind.BOOKING_CONFIRMED, Kind.PAYMENT_RECEIPT], receipt=event.receipt
    )


def on_booking_cancelled(event: events.BookingCancelled) -> None:
    kind = Kind.FLIGHT_CANCELLED if event.by_airline else Kind.BOOKING_CANCELLED
    notifications_create(
        booking=event.booking, kinds=[kind], refunded=event.refunded, refund_amount=event.refund_amount
    )


def on_booking_expired(event: events.BookingExpired) -> None:
    notification_bare_create(booking=event.booking, kind=Kind.HOLD_EXPIRED)


def on_booking_checked_in(event: events.BookingCheckedIn) -> None:
    boarding_passes_notification_write(booking=event.booking)


def on_booking_segment_moved(event: events.BookingSegmentMoved) -> None:
    flight_changed_notification_write(moved=event)


def on_password_reset_requested(event: account_events.PasswordResetRequested) -> None:
    password_reset_notification_create(user=event.user, link=event.link)


def subscribe_all() -> None:
    account_events.password_reset_requested.subscribe(on_password_reset_requested)
    events.booking_held.subscribe(on_booking_held)
    events.booking_confirmed.subscribe(on_booking_confirmed)
    events.booking_cancelled.subscribe(on_booking_cancelled)
    events.booking_expired.subscribe(on_booking_expired)
    events.booking_checked_in.subscribe(on_booking_checked_in)
    events.booking_segment_moved.subscribe(on_booking_segment_moved)
