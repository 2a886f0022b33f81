"""Refunds: money back from a booking's payments (docs/ARCHITECTURE.md, "Request path of a cancellation
with a partial refund", and docs/FARES.md, "Changing a flight").

A booking may hold several charges: its payment in full and the payments of its flight changes. The
ones it holds are "kept" (`succeeded_for` or `succeeded_for_change` set): a cancellation refunds from
those, and so does a change to a cheaper flight. Who gives back how much is decided first, under the
payments' locks, and written as PENDING `Refund` rows: a payment's refunds never add up to more than it
(checked there, with the pending ones counted), and a change, which locks the same rows, sees that a
cancellation has begun. The gateway is asked after, with no transaction open, by each row's own key;
the row is then SUCCEEDED. A refund whose gateway did not answer stays pending and is asked again, with
the same key, by the next caller or the reconciler (apps/payments/services/paying.py).

A charge that could not be kept (its booking cancelled or closed meanwhile, a change whose seats were
gone) goes back in full by `payment_charge_refund`, gateway first: no other refund competes for it.
"""

import logging
from decimal import Decimal

from django.db.models import Q, Sum

from apps.accounts.models import User
from apps.bookings.exceptions import BookingNotCancellable
from apps.bookings.models import Booking, FlightChange
from apps.bookings.services import booking_cancel
from apps.core.audit import Action
from apps.core.db import retry_on_lock_conflict
from apps.core.exceptions import PermissionDenied
from apps.core.locking import lock_rows, locked_transaction
from apps.core.permissions import staff_may
from apps.payments.audit import payment_audit
from apps.payments.exceptions import PaymentNotRefundable
from apps.payments.gateway import GatewayTimeout, get_gateway
from apps.payments.locks import payment_lock
from apps.payments.models import Payment, Refund

logger = logging.getLogger(__name__)

ZERO = Decimal("0")

# The payments a booking holds: its own, once it succeeded, and each change's that succeeded.
KEPT = Q(succeeded_for__isnull=False) | Q(succeeded_for_change__isnull=False)


def payments_kept_lock(*, booking_id: int) -> list[Payment]:
    """Lock the payments `booking_id` holds (by ascending id), in the caller's locked_transaction, after
    the booking's lock if it takes one (docs/ARCHITECTURE.md, "Locks")."""
    return lock_rows(Payment.objects.filter(KEPT, booking_id=booking_id))


def _still_held(payments: list[Payment]) -> dict[int, Decimal]:
    """What each payment still holds: its amount less its refunds of any kind, pending ones too."""
    refunded = dict(
        Refund.objects.filter(payment__in=payments)
        .values("payment_id")
        .annotate(total=Sum("amount"))
        .values_list("payment_id", "total")
    )
    return {payment.pk: payment.amount - refunded.get(payment.pk, ZERO) for payment in payments}


def final_refunds_of(payments: list[Payment]) -> list[Refund]:
    """The final refunds of these payments, pending or made: a cancellation has begun once there is one."""
    return list(Refund.objects.filter(payment__in=payments, kind=Refund.Kind.FINAL).order_by("pk"))


def refunds_reserve_final(
    *, booking: Booking, payments: list[Payment], amount: Decimal | None, actor: User | None
) -> list[Refund]:
    """Decide the cancellation's refund of `booking`: `amount` (None: everything its payments still
    hold) from `payments` (`payments_kept_lock`'s, locked by the caller), the latest payment first, one
    final refund per payment (0 where nothing is left for it). A refund of 0 is made (and audited) at
    once; the others are pending until `refunds_send` makes them.

    A booking's payments are refunded by a cancellation once: when they have final refunds already,
    those are the answer, whatever `amount` (a second cancel racing the first). Raises
    PaymentNotRefundable (409) for an amount below 0 or above what the payments still hold.
    """
    existing = final_refunds_of(payments)
    if existing:
        return existing
    open_payments = sorted(
        (payment for payment in payments if payment.status == Payment.Status.SUCCEEDED),
        key=lambda payment: payment.pk,
        reverse=True,
    )
    held = _still_held(open_payments)
    total = sum(held.values(), ZERO)
    amount = total if amount is None else amount
    if not ZERO <= amount <= total:
        raise PaymentNotRefundable(
            f"A refund of {amount} {booking.currency} is not between 0 and the {total} paid."
        )
    refunds, left = [], amount
    for payment in open_payments:
        part = min(left, held[payment.pk])
        left -= part
        refund = Refund.objects.create(
            payment=payment,
            kind=Refund.Kind.FINAL,
            status=Refund.Status.PENDING if part > 0 else Refund.Status.SUCCEEDED,
            gateway_idempotency_key=f"refund_{payment.pk}",
            amount=part,
            currency=payment.currency,
            reason="Booking cancelled.",
        )
        if part == 0:
            payment.status = Payment.Status.REFUNDED
            payment.save(update_fields=["status", "updated_at"])
            _refund_audit(refund, payment, booking, actor)
        refunds.append(refund)
    return refunds


def refunds_reserve_change(*, change: FlightChange, payments: list[Payment]) -> list[Refund]:
    """Decide the refund of a change to a cheaper flight, `change.refund_due`, from `payments`
    (`payments_kept_lock`'s, locked by the caller, who made the change in this transaction), the latest
    payment first: pending change refunds keyed by the change, until `refunds_send` makes them.

    Raises PaymentNotRefundable (409) when the payments hold less (the quote caps the refund at what was
    paid, so only a booking whose cancellation began: the caller refuses that change first).
    """
    if change.refund_due <= 0:
        return []
    open_payments = sorted(
        (payment for payment in payments if payment.status == Payment.Status.SUCCEEDED),
        key=lambda payment: payment.pk,
        reverse=True,
    )
    held = _still_held(open_payments)
    if change.refund_due > sum(held.values(), ZERO):
        raise PaymentNotRefundable(
            f"The booking's payments hold less than the {change.refund_due} to refund."
        )
    refunds, left = [], change.refund_due
    for payment in open_payments:
        part = min(left, held[payment.pk])
        if part <= 0:
            continue
        left -= part
        refunds.append(
            Refund.objects.create(
                payment=payment,
                kind=Refund.Kind.CHANGE,
                status=Refund.Status.PENDING,
                gateway_idempotency_key=f"change_{change.pk}_{payment.pk}",
                flight_change=change,
                amount=part,
                currency=payment.currency,
                reason="Flight changed to a cheaper one.",
            )
        )
    return refunds


def refunds_send(refunds: list[Refund], *, actor: User | None = None) -> bool:
    """Ask the gateway for each pending refund of `refunds` (no transaction open), each by its own key,
    and record it made (once, audited "refunded", or "staff_refunded" when `actor` is not the payer;
    None: the system); True when none is left pending. A gateway that does not answer is asked once
    more with the same key (the refund may have gone through with its answer lost); one that still
    does not answer leaves its refund pending for the next caller or the reconciler."""
    gateway = get_gateway()
    all_sent = True
    for refund in refunds:
        if refund.status != Refund.Status.PENDING:
            continue
        charge_reference = Payment.objects.values_list("gateway_reference", flat=True).get(
            pk=refund.payment_id
        )
        result = None
        for attempt in (1, 2):
            try:
                result = gateway.refund(
                    idempotency_key=refund.gateway_idempotency_key,
                    charge_reference=charge_reference,
                    amount=refund.amount,
                )
            except GatewayTimeout:
                logger.warning(
                    "Gateway timeout refunding %s (attempt %s)", refund.gateway_idempotency_key, attempt
                )
                continue
            break
        if result is None:
            all_sent = False
            continue
        _refund_sent(refund_id=refund.pk, gateway_reference=result.reference, actor=actor)
        refund.status, refund.gateway_reference = Refund.Status.SUCCEEDED, result.reference
    return all_sent


@retry_on_lock_conflict
def _refund_sent(*, refund_id: int, gateway_reference: str, actor: User | None) -> None:
    """Record a refund the gateway made, once (whoever records it first audits it); a final refund
    settles its payment (refunded)."""
    payment_id = Refund.objects.values_list("payment_id", flat=True).get(pk=refund_id)
    with locked_transaction():
        payment = payment_lock(payment_id)
        refund = Refund.objects.get(pk=refund_id)
        if refund.status != Refund.Status.PENDING:
            return
        refund.status, refund.gateway_reference = Refund.Status.SUCCEEDED, gateway_reference
        refund.save(update_fields=["status", "gateway_reference", "updated_at"])
        if refund.kind == Refund.Kind.FINAL:
            payment.status = Payment.Status.REFUNDED
            payment.save(update_fields=["status", "updated_at"])
        _refund_audit(refund, payment, payment.booking, actor)


def _refund_audit(refund: Refund, payment: Payment, booking: Booking, actor: User | None) -> None:
    staff = actor is not None and actor.pk != payment.owner_id
    payment_audit(
        Action.STAFF_REFUNDED if staff else Action.REFUNDED,
        payment,
        booking,
        actor,
        reason=refund.reason,
        refund_amount=str(refund.amount),
    )


def payment_refund_reserve_for_booking(booking: Booking, actor: User | None, amount: Decimal) -> None:
    """The refund reserver registered with bookings: called by the cancellation inside its locked
    transaction, after the booking's lock and its quote taken again under it, it decides the refund of
    `amount` (`refunds_reserve_final`); a booking without payments has nothing to decide."""
    payments = payments_kept_lock(booking_id=booking.pk)
    if payments:
        refunds_reserve_final(booking=booking, payments=payments, amount=amount, actor=actor)


def payment_refund_for_booking(
    booking: Booking, actor: User | None = None, amount: Decimal | None = None
) -> bool:
    """The refund handler registered with bookings: refund `amount` of a cancelled booking's payments
    (the cancellation quote's; None: everything they hold), never more than was paid
    (PaymentNotRefundable, 409).

    Called by `booking_cancel` with no transaction open and no lock held, after its refund was decided
    (`payment_refund_reserve_for_booking`; decided here when it was not). Idempotent: each payment's
    final refund is keyed `refund_<payment id>` at the gateway and written once. Returns True once
    refunded (also when it already was), False when the booking has no payment to refund or the gateway
    did not answer twice (the refund stays pending, asked again by the next call or the reconciler).
    `actor` (who cancels) is recorded in the audit trail.
    """
    if not Payment.objects.filter(KEPT, booking=booking).exists():
        logger.warning("Booking %s has no succeeded payment to refund", booking.pk)
        return False
    return refunds_send(_final_refunds_reserve(booking=booking, amount=amount, actor=actor), actor=actor)


@retry_on_lock_conflict
def _final_refunds_reserve(*, booking: Booking, amount: Decimal | None, actor: User | None) -> list[Refund]:
    with locked_transaction():
        payments = payments_kept_lock(booking_id=booking.pk)
        return refunds_reserve_final(booking=booking, payments=payments, amount=amount, actor=actor)


def payment_charge_refund(*, payment_id: int, reason: str, actor: User | None = None) -> Refund:
    """Refund in full (what it still holds) a charge its booking could not keep (a payment that failed
    after charging), or a staff refund of a payment whose booking is no longer confirmed: the gateway
    first (no lock held, key `refund_<payment id>`), then the final refund recorded once, the payment
    refunded.

    Asked again, the first refund is the answer (one already pending is asked of the gateway again).
    The first recording audits "refunded", or "staff_refunded" when `actor` is not the payer; `actor`
    None is the system. Raises GatewayTimeout when the gateway does not answer (the reconciler asks
    again).
    """
    key = f"refund_{payment_id}"
    existing = Refund.objects.filter(gateway_idempotency_key=key).first()
    if existing is not None:
        if existing.status == Refund.Status.PENDING and not refunds_send([existing], actor=actor):
            raise GatewayTimeout(f"The gateway did not answer for refund {key}.")
        return Refund.objects.get(pk=existing.pk)
    payment = Payment.objects.get(pk=payment_id)
    amount = _still_held([payment])[payment.pk]
    gateway_reference = ""
    if amount > 0:
        gateway_reference = (
            get_gateway()
            .refund(idempotency_key=key, charge_reference=payment.gateway_reference, amount=amount)
            .reference
        )
    with locked_transaction():
        payment = payment_lock(payment_id)
        refund, created = Refund.objects.get_or_create(
            gateway_idempotency_key=key,
            defaults={
                "payment": payment,
                "kind": Refund.Kind.FINAL,
                "status": Refund.Status.SUCCEEDED,
                "amount": amount,
                "currency": payment.currency,
                "gateway_reference": gateway_reference,
                "reason": reason[:255],
            },
        )
        payment.status = Payment.Status.REFUNDED
        payment.save(update_fields=["status", "updated_at"])
        if created:
            staff = actor is not None and actor.pk != payment.owner_id
            payment_audit(
                Action.STAFF_REFUNDED if staff else Action.REFUNDED,
                payment,
                payment.booking,
                actor,
                reason=refund.reason,
                refund_amount=str(refund.amount),
            )
    return refund


def payment_refund(*, payment: Payment, actor: User) -> Payment:
    """Staff refund (admin action): refund a succeeded payment by cancelling its booking.

    The booking is cancelled through `booking_cancel`, which refunds every payment it holds (its own and
    its changes') first, so the seats go back and "booking.cancelled" is published with refunded=True.
    Refunding a refunded payment again changes nothing, also when another refund or cancel of it ran at
    the same moment.

    Raises PermissionDenied (403) without payments.refund_payment, PaymentNotRefundable (409) for a
    payment that never succeeded, and what booking_cancel raises (without bookings.change_booking
    PermissionDenied 403 or BookingNotFound 404, RefundFailed 503, Busy 409, …).
    """
    # What the admin's refund action asks: the view permission (apps/payments/admin.py: refund_selected).
    if not staff_may(actor, "payments.refund_payment"):
        raise PermissionDenied("Refunding a payment needs payments.refund_payment.")
    if payment.status == Payment.Status.REFUNDED:
        return payment
    if payment.status != Payment.Status.SUCCEEDED:
        raise PaymentNotRefundable(
            f"Payment {payment.pk} is {payment.status}; only a succeeded payment is refunded."
        )
    if payment.booking.status == Booking.Status.CONFIRMED:
        try:
            booking_cancel(booking=payment.booking, actor=actor)
        except BookingNotCancellable:
            # Cancelled meanwhile by a cancel or refund running at the same moment, which refunded it
            # once (the gateway refund is keyed by payment): answered as a refunded payment is.
            payment.refresh_from_db()
            if payment.status != Payment.Status.REFUNDED:
                raise
    else:
        payment_charge_refund(payment_id=payment.pk, reason=f"Refunded by {actor.email}.", actor=actor)
    payment.refresh_from_db()
    return payment
