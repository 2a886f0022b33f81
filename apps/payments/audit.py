"""The payments' rows of the audit trail (apps/core/audit.py): one per charge settled or refund made."""

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.core.audit import Subject, audit_record
from apps.payments.models import Payment


def payment_audit(action: str, payment: Payment, booking: Booking, actor: User | None, **detail: str) -> None:
    """Audit a payment event; the booking reference in the detail finds it from the booking, and a
    change payment says so (`kind`)."""
    audit_record(
        action=action,
        subject_type=Subject.PAYMENT,
        subject_ref=str(payment.pk),
        actor=actor,
        detail={
            "booking_reference": booking.reference,
            "amount": str(payment.amount),
            "currency": payment.currency,
            **({"kind": payment.kind} if payment.kind != Payment.Kind.BOOKING else {}),
            **detail,
        },
    )
