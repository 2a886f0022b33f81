"""Booking services: the only code that writes bookings, seat assignments and seat counters."""

from apps.bookings.services.cancellation import booking_cancel, flight_cancel, register_refund_handler
from apps.bookings.services.expiry import booking_holds_expire
from apps.bookings.services.holds import booking_hold_create

__all__ = [
    "booking_cancel",
    "booking_hold_create",
    "booking_holds_expire",
    "flight_cancel",
    "register_refund_handler",
]
