"""Booking services: the only code that writes bookings, seat assignments and seat counters."""

from apps.bookings.services.cancellation import (
    booking_cancel,
    booking_cancel_after_refund,
    cancelled_flights_finish,
    flight_bookings_cancel,
    register_refund_handler,
    register_refund_reserver,
)
from apps.bookings.services.check_in import booking_check_in
from apps.bookings.services.expiry import booking_holds_expire
from apps.bookings.services.holds import booking_hold_create
from apps.bookings.services.paying import (
    booking_payment_failed,
    booking_payment_start,
    booking_payment_succeeded,
    booking_sale_open_ensure,
)

__all__ = [
    "booking_cancel",
    "booking_cancel_after_refund",
    "booking_check_in",
    "booking_hold_create",
    "booking_holds_expire",
    "booking_payment_failed",
    "booking_payment_start",
    "booking_payment_succeeded",
    "booking_sale_open_ensure",
    "cancelled_flights_finish",
    "flight_bookings_cancel",
    "register_refund_handler",
    "register_refund_reserver",
]
