from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Max, Q, QuerySet, Sum

from apps.bookings.models import Booking
from apps.bookings.selectors import MoneyRecord
from apps.core.exceptions import NotFound
from apps.core.permissions import staff_may
from apps.payments.models import Payment, Refund

ZERO = Decimal("0")
# The payments a booking holds (apps/payments/services/refunds.py says why): its own that succeeded,
# and each flight change's that succeeded.
KEPT = Q(succeeded_for__isnull=False) | Q(succeeded_for_change__isnull=False)


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
    charged but could not confirm their booking (or move its flight) and are not refunded yet (oldest
    first)."""
    stuck = Q(status=Payment.Status.PROCESSING) | (
        Q(status=Payment.Status.FAILED, refunds__isnull=True) & ~Q(gateway_reference="")
    )
    return list(
        Payment.objects.filter(stuck, created_at__lt=created_before)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def refunds_pending(*, created_before: datetime, limit: int = 100) -> list[Refund]:
    """Refunds decided before `created_before` that the gateway has not confirmed yet (oldest first)."""
    return list(
        Refund.objects.filter(status=Refund.Status.PENDING, created_at__lt=created_before).order_by(
            "created_at", "pk"
        )[:limit]
    )


def bookings_confirmed_with_refund_decided(*, refunded_before, limit: int = 100) -> list[int]:
    """Ids of bookings still confirmed whose cancellation refund was decided before `refunded_before`
    (a final refund of a payment they hold, or such a payment marked refunded): the booking's cancel
    stopped after its refund (oldest first)."""
    refunded = Q(status=Payment.Status.REFUNDED, updated_at__lt=refunded_before) | Q(
        refunds__kind=Refund.Kind.FINAL, refunds__created_at__lt=refunded_before
    )
    rows = (
        Payment.objects.filter(KEPT, refunded, booking__status=Booking.Status.CONFIRMED)
        .values("booking_id")
        .annotate(since=Max("updated_at"))
        .order_by("since")
        .values_list("booking_id", flat=True)[:limit]
    )
    return list(rows)


def bookings_money_records(booking_ids: list[int]) -> dict[int, MoneyRecord]:
    """What each of these bookings was charged and refunded (one query): the booking's own payment that
    succeeded, or any refunded since (one charged after its booking could no longer be confirmed, too),
    and the payments of its flight changes that succeeded, with their refunds. Bookings with none were
    never charged and are left out."""
    final, change = Q(refunds__kind=Refund.Kind.FINAL), Q(refunds__kind=Refund.Kind.CHANGE)
    charged = (
        Payment.objects.filter(booking_id__in=booking_ids)
        .filter(KEPT | Q(kind=Payment.Kind.BOOKING, refunds__isnull=False))
        .annotate(
            final_refunds=Count("refunds", filter=final),
            final_refunded=Sum("refunds__amount", filter=final),
            final_refunded_at=Max("refunds__created_at", filter=final),
            change_refunded=Sum("refunds__amount", filter=change),
        )
        .order_by("created_at", "pk")
    )
    own: dict[int, Payment] = {}
    changes: dict[int, list[Payment]] = defaultdict(list)
    for payment in charged:
        if payment.kind == Payment.Kind.BOOKING:
            own[payment.booking_id] = (
                payment  # the latest: one refunded after a failed confirmation, then one kept
            )
        else:
            changes[payment.booking_id].append(payment)
    records: dict[int, MoneyRecord] = {}
    for booking_id, payment in own.items():
        payments = [payment, *changes.get(booking_id, [])]
        refunded = [p for p in payments if p.final_refunds]
        records[booking_id] = MoneyRecord(
            paid=sum((p.amount for p in payments), ZERO),
            paid_at=payment.processed_at,
            refunded=sum((p.final_refunded for p in refunded), ZERO) if refunded else None,
            refunded_at=max((p.final_refunded_at for p in refunded), default=None),
            change_charged=sum((p.amount for p in payments[1:]), ZERO),
            change_refunded=sum((p.change_refunded or ZERO for p in payments), ZERO),
        )
    return records
