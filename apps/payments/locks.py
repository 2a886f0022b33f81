"""Row locks of payments, through the one locking helper (apps/core/locking.py has the order).

A payment is locked after its booking (apps/bookings/locks.py), never before.
"""

from apps.core.locking import lock_row
from apps.payments.models import Payment


def payment_lock(payment_id: int) -> Payment:
    """Lock one payment and return its current state (it must exist)."""
    payment = lock_row(Payment.objects.filter(pk=payment_id))
    if payment is None:
        raise Payment.DoesNotExist(f"Payment {payment_id} does not exist.")
    return payment
