"""The only place payments builds select_for_update querysets.

Lock order (SPEC §4.3): flight → seats → booking → payment. Payments lock a booking, then its
payment; always by primary key, and only inside a transaction.
"""

from apps.bookings.models import Booking
from apps.payments.models import Payment


def booking_lock(booking_id: int) -> Booking:
    return Booking.objects.select_for_update().get(pk=booking_id)


def payment_lock(payment_id: int) -> Payment:
    return Payment.objects.select_for_update().get(pk=payment_id)
