"""Paying a held booking: charge it at most once, with no lock held across the gateway call; and the
reconciler, which settles what a lost answer or a crash left half done, change payments and refunds too.

The flow (docs/ARCHITECTURE.md, "Request path of a payment"): a short transaction records a
processing payment while the bookings app marks its booking PAYING → the gateway charge, no
transaction open → a short transaction records the outcome and asks the bookings app to confirm
the booking (or to put it back). The sweeper expires HELD bookings only, so a PAYING booking keeps
its seats; a payment stuck in processing is settled by `payments_reconcile_stuck` through the
gateway's idempotent lookup. This app writes payments and refunds only; every booking change is a
call to apps/bookings/services/paying.py or the cancellation services. Refunds: ./refunds.py; the
payments of flight changes: ./changes.py.
"""

import contextlib
import logging
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.events import PaymentReceipt
from apps.bookings.exceptions import BookingNotCancellable, BookingNotPayable
from apps.bookings.locks import booking_lock, booking_lock_with_flight
from apps.bookings.models import Booking
from apps.bookings.selectors import booking_get_owned
from apps.bookings.services import (
    booking_cancel_after_refund,
    booking_payment_failed,
    booking_payment_start,
    booking_payment_succeeded,
    booking_sale_open_ensure,
)
from apps.bookings.services.flight_changes import flight_change_fail
from apps.core.audit import Action
from apps.core.db import retry_on_lock_conflict
from apps.core.locking import locked_transaction
from apps.core.request_context import log_context_update
from apps.payments.audit import payment_audit
from apps.payments.exceptions import AlreadyPaid, AmountMismatch, PaymentDeclined
from apps.payments.gateway import ChargeResult, GatewayTimeout, get_gateway
from apps.payments.locks import payment_lock
from apps.payments.models import Payment
from apps.payments.selectors import (
    bookings_confirmed_with_refund_decided,
    payments_to_reconcile,
    refunds_pending,
)
from apps.payments.services.changes import change_payment_finalize, change_payment_settle
from apps.payments.services.charging import (
    payment_charge_at_gateway,
    payment_charged_after_failing,
    payment_declined_record,
)
from apps.payments.services.refunds import KEPT, final_refunds_of, payment_charge_refund, refunds_send

logger = logging.getLogger(__name__)


def payment_create(
    *,
    user,
    booking_reference: str,
    amount: Decimal,
    currency: str,
    payment_method: str,
    idempotency_key: str,
) -> Payment:
    """Pay the whole of the caller's HELD, unexpired booking; the gateway charges at most once.

    Succeeded → the booking is CONFIRMED and `booking.confirmed` is published. Declined → the booking
    is HELD again and stays payable until its hold expires. A retry with the same client key while the
    booking is PAYING (after a gateway timeout) resumes that payment: the gateway is asked for the
    charge made with the payment's gateway key, and charged with that same key only if it has none.

    Raises NotFound (404: no such booking, or another user's), AlreadyPaid (409), PaymentInProgress
    (409: another request is paying it), BookingNotPayable (409: expired, cancelled or past its hold; no
    charge), FlightNotBookable (409: its flight is cancelled or departed; no charge), AmountMismatch
    (422), PaymentDeclined (402, detail = the gateway's reason), PaymentGatewayTimeout (504: the
    payment stays processing until a retry or the reconciler settles it).
    """
    booking = booking_get_owned(reference=booking_reference, user=user)
    log_context_update(booking_reference=booking.reference)
    payment, stage = _payment_begin(
        booking_id=booking.pk,
        user=user,
        amount=amount,
        currency=currency.upper(),
        payment_method=payment_method,
        idempotency_key=idempotency_key,
    )
    if stage == "settled":
        return payment
    result = payment_charge_at_gateway(payment, resume=stage == "resume")
    return payment_finalize(payment_id=payment.pk, result=result, actor=user)


@retry_on_lock_conflict
def _payment_begin(
    *, booking_id: int, user, amount: Decimal, currency: str, payment_method: str, idempotency_key: str
) -> tuple[Payment, Literal["new", "resume", "settled"]]:
    """Step 1: mark the booking PAYING with a new processing payment, or find the one to resume.

    "settled": this client key's payment already succeeded (the reconciler finished it after a
    gateway timeout), so the client's retry is answered with it rather than with already_paid.
    """
    with locked_transaction():
        booking = booking_lock(booking_id=booking_id)
        succeeded = Payment.objects.filter(succeeded_for=booking).first()
        if (
            succeeded is not None
            and succeeded.owner_id == user.pk
            and succeeded.idempotency_key == idempotency_key
        ):
            return succeeded, "settled"
        if booking.status == Booking.Status.CONFIRMED or succeeded is not None:
            raise AlreadyPaid("This booking is already paid.")
        now = timezone.now()
        if booking.status == Booking.Status.PAYING:
            resumable = Payment.objects.filter(
                booking=booking, owner=user, status=Payment.Status.PROCESSING, idempotency_key=idempotency_key
            ).first()
            if resumable is not None:
                booking_sale_open_ensure(booking=booking, now=now)
                _check_amount(booking, amount, currency)
                # Renewed under the booking's lock, which the reconciler's give-up takes too: it then
                # sees the new lease and leaves the payment to this retry (`_payment_give_up`).
                resumable = payment_lock(resumable.pk)
                resumable.leased_at = now
                resumable.save(update_fields=["leased_at", "updated_at"])
                return resumable, "resume"
        booking_payment_start(booking=booking, now=now)
        _check_amount(booking, amount, currency)  # refused: the transaction, PAYING included, rolls back
        payment = Payment.objects.create(
            booking=booking,
            owner=user,
            amount=booking.total_amount,
            currency=booking.currency,
            payment_method=payment_method,
            idempotency_key=idempotency_key,
            gateway_idempotency_key=f"pay_{booking.pk}_{secrets.token_hex(12)}",
            leased_at=now,
        )
        return payment, "new"


def _check_amount(booking: Booking, amount: Decimal, currency: str) -> None:
    if amount != booking.total_amount or currency != booking.currency:
        raise AmountMismatch(
            f"The booking's total is {booking.total_amount} {booking.currency}.",
            errors={
                "amount": [f"Must be {booking.total_amount}."],
                "currency": [f"Must be {booking.currency}."],
            },
        )


def payment_finalize(*, payment_id: int, result: ChargeResult, actor: User | None = None) -> Payment:
    """Step 3: record the gateway's answer for a processing payment; running it twice is harmless.

    Succeeded → the payment succeeded (`succeeded_for` = its booking: the database admits one success
    per booking), the booking CONFIRMED, `booking.confirmed` published, "paid" audited. Declined → the
    payment declined, the booking HELD again, "payment_declined" audited; raises PaymentDeclined (402).
    `actor` is the paying user, None when the reconciler settles it. A successful charge that can no
    longer confirm its booking (cancelled meanwhile, its flight cancelled, or the payment given up by
    reconciliation) is refunded (audited "refunded", by the system) and raises BookingNotPayable (409),
    so money is never kept without a booking; if the refund times out, the reconciler refunds it.
    A change payment is settled by its own rules (./changes.py: `change_payment_finalize`).
    """
    if Payment.objects.filter(pk=payment_id, kind=Payment.Kind.CHANGE).exists():
        change_payment_finalize(payment_id=payment_id, result=result, actor=actor)
        return Payment.objects.select_related("booking").get(pk=payment_id)
    not_confirmed = _payment_record_outcome(payment_id=payment_id, result=result, actor=actor)
    if not_confirmed is not None:
        try:
            payment_charge_refund(payment_id=payment_id, reason=not_confirmed)
        except GatewayTimeout:
            # The payment stays failed and unrefunded: the reconciler refunds it on its next run.
            logger.warning("Gateway timeout refunding orphan payment %s; left for reconciliation", payment_id)
            raise BookingNotPayable(f"{not_confirmed} The charge will be refunded.") from None
        raise BookingNotPayable(f"{not_confirmed} The charge was refunded.")
    payment = Payment.objects.select_related("booking").get(pk=payment_id)
    if payment.status == Payment.Status.DECLINED:
        raise PaymentDeclined(payment.decline_reason or "The payment was declined.")
    return payment


@retry_on_lock_conflict
def _payment_record_outcome(*, payment_id: int, result: ChargeResult, actor: User | None) -> str | None:
    """None, or why a successful charge could not confirm its booking (the charge then goes back)."""
    booking_id = Payment.objects.values_list("booking_id", flat=True).get(pk=payment_id)
    with locked_transaction():
        # The flight too: a flight cancel and this settlement are then ordered, never interleaved.
        booking = booking_lock_with_flight(booking_id=booking_id)
        payment = payment_lock(payment_id)
        if payment.status != Payment.Status.PROCESSING:
            # Settled already (a retry and the reconciler may race). Only a success for a payment
            # that failed (given up, or its booking gone) still needs its money back.
            if not payment_charged_after_failing(payment, result):
                return None
            return payment.decline_reason or "The booking could not be confirmed."
        now = timezone.now()
        payment.gateway_reference = result.reference
        payment.processed_at = now
        if not result.succeeded:
            payment_declined_record(payment, result, booking=booking, actor=actor)
            booking_payment_failed(booking=booking, now=now)
            return None
        receipt = PaymentReceipt(
            amount=payment.amount,
            currency=payment.currency,
            gateway_reference=payment.gateway_reference,
            payment_method=payment.payment_method,
            paid_at=now,
        )
        not_confirmed = booking_payment_succeeded(booking=booking, receipt=receipt, now=now)
        if not_confirmed is not None:
            payment.status = Payment.Status.FAILED
            payment.decline_reason = not_confirmed[:255]
            payment.save(
                update_fields=["status", "gateway_reference", "processed_at", "decline_reason", "updated_at"]
            )
            return payment.decline_reason
        payment.status = Payment.Status.SUCCEEDED
        payment.succeeded_for = booking
        payment.save(
            update_fields=["status", "gateway_reference", "processed_at", "succeeded_for", "updated_at"]
        )
        payment_audit(Action.PAID, payment, booking, actor)
        return None


def payments_reconcile_stuck(*, older_than_seconds: int) -> int:
    """Settle payments left processing for longer than `older_than_seconds` (timeout, crash).

    Each is looked up at the gateway by its gateway key: a charge exists → recorded as in step 3
    (confirmed, declined, or refunded if its booking is gone; a change payment's seats moved, or its
    charge refunded when they can no longer move); no charge → the payment FAILED and the booking HELD
    again (a change payment's change failed, the booking untouched), so it is payable until its hold
    expires and the sweeper expires it after, unless a client's retry resumed the payment meanwhile
    (its lease renewed: the retry settles it). Charged payments that failed to confirm and whose
    refund did not go through are refunded again; refunds left pending at the gateway are asked again.
    A booking still confirmed whose cancellation refund was decided (the cancel stopped after it) gets
    its refund finished and its booking cancelled. Never charges. A gateway that times out, or a
    payment that fails in any other way, is logged and left for the next run. Returns how many were
    settled.
    """
    created_before = timezone.now() - timedelta(seconds=older_than_seconds)
    gateway = get_gateway()
    settled = 0
    for payment_id in payments_to_reconcile(created_before=created_before):
        gateway_key, kind = Payment.objects.values_list("gateway_idempotency_key", "kind").get(pk=payment_id)
        try:
            result = gateway.retrieve(gateway_key)
            if result is None:
                if not _payment_give_up(payment_id=payment_id, leased_before=created_before):
                    continue  # settled, or resumed by a client's retry, since: no longer ours
            elif kind == Payment.Kind.CHANGE:
                # Nobody waits for the answer: a refusal (its charge refunded) is recorded, not raised.
                change_payment_settle(payment_id=payment_id, result=result)
            else:
                # A decline or a refunded orphan is recorded; nobody is waiting for the answer.
                with contextlib.suppress(PaymentDeclined, BookingNotPayable):
                    payment_finalize(payment_id=payment_id, result=result)
        except GatewayTimeout:
            logger.warning("Gateway timed out reconciling payment %s; left for the next run", payment_id)
            continue
        except Exception:
            # One bad payment must not stall the others.
            logger.exception("Reconciling payment %s failed; left for the next run", payment_id)
            continue
        settled += 1
    for refund in refunds_pending(created_before=created_before):
        try:
            if not refunds_send([refund]):
                continue
        except Exception:
            logger.exception("Refund %s failed again; left for the next run", refund.gateway_idempotency_key)
            continue
        settled += 1
    for booking_id in bookings_confirmed_with_refund_decided(refunded_before=created_before):
        try:
            if _booking_cancel_refunded(booking_id=booking_id):
                settled += 1
        except Exception:
            logger.exception("Cancelling refunded booking %s failed; left for the next run", booking_id)
    return settled


def _booking_cancel_refunded(*, booking_id: int) -> bool:
    """Cancel a still-confirmed booking whose cancellation refund was decided (its cancel stopped after
    it): the refund finished first, then the booking cancelled as refunded. False when the refund is
    still not through (left for the next run)."""
    booking = Booking.objects.get(pk=booking_id)
    logger.warning("Booking %s is refunded but confirmed; cancelling it", booking.pk)
    if not refunds_send(final_refunds_of(list(Payment.objects.filter(KEPT, booking=booking)))):
        return False
    with contextlib.suppress(BookingNotCancellable):  # a racing cancel finished it first
        booking_cancel_after_refund(booking=booking)
    return True


@retry_on_lock_conflict
def _payment_give_up(*, payment_id: int, leased_before: datetime) -> bool:
    """Fail a processing payment the gateway has no charge for; False when it is no longer ours to.

    The gateway was asked with no lock held, so the answer may be stale by now: a client's retry may
    have resumed the payment since (renewing its lease under the booking's lock) and be charging.
    Re-checked here under the same locks, a payment settled or leased after `leased_before` is left
    alone; one given up is FAILED, and a retry that comes after finds its booking HELD and pays anew
    (a change payment's change FAILED: nothing moved, the booking as it was).
    """
    booking_id = Payment.objects.values_list("booking_id", flat=True).get(pk=payment_id)
    with locked_transaction():
        booking = booking_lock_with_flight(booking_id=booking_id)
        payment = payment_lock(payment_id)
        if payment.status != Payment.Status.PROCESSING or payment.leased_at >= leased_before:
            return False
        now = timezone.now()
        payment.status = Payment.Status.FAILED
        payment.decline_reason = "The gateway has no charge for this payment."
        payment.processed_at = now
        payment.save(update_fields=["status", "decline_reason", "processed_at", "updated_at"])
        if payment.kind == Payment.Kind.CHANGE:
            flight_change_fail(change_id=payment.flight_change_id, reason=payment.decline_reason)
        else:
            booking_payment_failed(booking=booking, now=now)
    return True
