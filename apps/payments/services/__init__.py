"""Payments' services (the only code that writes payments and refunds): paying a held booking and the
reconciler (paying.py), refunds (refunds.py), the payments of flight changes (changes.py)."""

from apps.payments.services.changes import booking_flight_change
from apps.payments.services.paying import payment_create, payment_finalize, payments_reconcile_stuck
from apps.payments.services.refunds import payment_refund, payment_refund_for_booking

__all__ = [
    "booking_flight_change",
    "payment_create",
    "payment_finalize",
    "payment_refund",
    "payment_refund_for_booking",
    "payments_reconcile_stuck",
]
