from django.db.models import Q, QuerySet

from apps.bookings.models import Booking
from apps.bookings.selectors import MoneyRecord
from apps.core.exceptions import NotFound
from apps.core.permissions import staff_may
from apps.payments.models import Payment


def payment_get_for_user(*, payment_id: int, user) -> Payment:
    """A payment its owner may see, and staff holding payments.view_payment (as in the admin); anyone
    else, staff without it too, gets NotFound (404)."""
    payments: QuerySet[Payment] = Payment.objects.select_related("booking")
    if not staff_may(user, "payments.view_payment"):
        payments = payments.filter(owner=user)
    payment = payments.filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("No payment with this id.")
    return payment


def payments_to_reconcile(*, created_before, limit: int = 100) -> list[int]:
    """Ids of payments created before `created_before` that are still processing, or that were
    charged but could not confirm their booking and are not refunded yet (oldest first)."""
    stuck = Q(status=Payment.Status.PROCESSING) | (
        Q(status=Payment.Status.FAILED, refund__isnull=True) & ~Q(gateway_reference="")
    )
    return list(
        Payment.objects.filter(stuck, created_at__lt=created_before)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def payments_refunded_with_booking_confirmed(*, refunded_before, limit: int = 100) -> list[int]:
    """Ids of refunded payments, refunded before `refunded_before`, whose booking is still confirmed:
    the booking's cancel failed after its refund went through (oldest first)."""
    return list(
        Payment.objects.filter(
            status=Payment.Status.REFUNDED,
            succeeded_for__status=Booking.Status.CONFIRMED,
            updated_at__lt=refunded_before,
        )
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )


def bookings_money_records(booking_ids: list[int]) -> dict[int, MoneyRecord]:
    """What each of these bookings was charged and refunded (one query): the succeeded payment, or
    any payment refunded since (one charged after its booking could no longer be confirmed, too).
    Bookings with neither were never charged and are left out."""
    records: dict[int, MoneyRecord] = {}
    charged = (
        Payment.objects.filter(booking_id__in=booking_ids)
        .filter(Q(status=Payment.Status.SUCCEEDED) | Q(refund__isnull=False))
        .select_related("refund")
        .order_by("created_at", "pk")
    )
    for payment in charged:
        refund = getattr(payment, "refund", None)
        records[payment.booking_id] = MoneyRecord(
            paid=payment.amount,
            paid_at=payment.processed_at,
            refunded=refund.amount if refund else None,
            refunded_at=refund.created_at if refund else None,
        )
    return records
