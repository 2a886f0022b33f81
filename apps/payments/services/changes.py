"""A traveller's flight change, the money side (docs/FARES.md, "Changing a flight"): charge the quote's
amount at most once, then move the seats; or move the seats and refund the difference.

The change's price comes from the bookings app (apps/bookings/services/flight_changes.py); this module
moves the money around it, as paying a held booking does (./paying.py):

- **A change that costs something** is charged first: a short transaction writes the pending change
  and its payment (kind "change", processing) under the booking's lock; the gateway is charged with no
  transaction open, keyed by the payment; a second short transaction, under the move's locks (the
  booking's flights and the new one, the booking, its payments), takes the quote again and moves the
  seats at the price charged, and the payment succeeds. If the seats can no longer move (sold out,
  the price moved, the booking cancelled or being cancelled), nothing moves, the payment fails and the
  charge is refunded in full at once (the reconciler refunds it if the gateway does not answer). A
  declined card moves nothing. A retry with the same client key resumes that payment: the gateway is
  asked for its charge and charged with the same key only if it has none; a settled one is answered.
- **A change that costs nothing, or gives money back**, is one transaction under the move's locks: the
  seats move and the refund is decided (pending change refunds, ./refunds.py), then asked of the
  gateway with no transaction open (the reconciler asks again if it does not answer).

Either way a change is refused while the booking's cancellation has begun (it has final refunds): the
cancellation decides its refund under the same booking lock (apps/bookings/services/cancellation.py),
so a change and a cancellation of one booking are always one after the other.
"""

import logging
import secrets
from typing import Literal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.exceptions import BookingNotFound, BookingNotMovable, PaymentInProgress, QuoteChanged
from apps.bookings.locks import booking_lock, booking_lock_for_move
from apps.bookings.models import Booking, FlightChange
from apps.bookings.services.flight_changes import (
    FlightChangeQuote,
    QuotedPrice,
    change_quote_token_read,
    flight_change_apply_locked,
    flight_change_fail,
    flight_change_quote,
    flight_change_record,
)
from apps.core.audit import Action
from apps.core.db import retry_on_lock_conflict
from apps.core.exceptions import ApplicationError, ValidationFailed
from apps.core.idempotency import IdempotencyKeyReused
from apps.core.locking import lock_rows, locked_transaction
from apps.core.request_context import log_context_update
from apps.payments.audit import payment_audit
from apps.payments.exceptions import PaymentDeclined
from apps.payments.gateway import ChargeResult, GatewayTimeout
from apps.payments.models import Payment, Refund
from apps.payments.services.charging import (
    payment_charge_at_gateway,
    payment_charged_after_failing,
    payment_declined_record,
)
from apps.payments.services.refunds import (
    KEPT,
    final_refunds_of,
    payment_charge_refund,
    refunds_reserve_change,
    refunds_send,
)

logger = logging.getLogger(__name__)


def booking_flight_change(
    *,
    booking: Booking,
    segment: int,
    to_flight_id: int,
    actor: User,
    quote: str,
    idempotency_key: str,
    payment_method: str = "",
) -> FlightChange:
    """Change segment `segment` of `actor`'s own confirmed `booking` to the flight `to_flight_id`, at the
    price of `quote` (the token of `flight_change_quote`), charging the card `payment_method` when it
    costs something; returns the change, DONE (module docstring for how the money moves).

    The quote is taken again first: refused with QuoteChanged (409) when its price is not the token's
    (or the token expired) and QuoteInvalid (400) for a token of another booking or change, before any
    charge; and with what `flight_change_quote` refuses (404, 400, 409). `payment_method` is required
    when the change costs something (ValidationFailed, 400). A retry with the same `idempotency_key`
    answers the change made (no second charge, no second move). Then PaymentInProgress (409) while
    another change of the booking is being paid; BookingNotMovable (409) once its cancellation has
    begun; PaymentDeclined (402: nothing moved); PaymentGatewayTimeout (504: retry with the same key);
    after a charge whose seats could not move, the move's refusal (SoldOut, QuoteChanged,
    BookingNotMovable, FlightNotBookable, … 409), its detail saying the charge was refunded; Busy (409).
    """
    if actor.pk != booking.owner_id:
        raise BookingNotFound()
    log_context_update(booking_reference=booking.reference)
    # A change made with this key is the answer, whenever asked again (its quote may have expired since).
    earlier = (
        FlightChange.objects.filter(booking=booking, requested_by=actor, idempotency_key=idempotency_key)
        .order_by("-pk")
        .first()
    )
    if earlier is not None and earlier.status == FlightChange.Status.DONE:
        if (earlier.segment, earlier.to_flight_id) != (segment, to_flight_id):
            raise IdempotencyKeyReused("This key was used for a change to another flight.")
        refunds_send(list(Refund.objects.filter(flight_change=earlier)), actor=actor)
        return earlier
    promised = change_quote_token_read(quote, booking=booking, segment=segment, to_flight_id=to_flight_id)
    current = flight_change_quote(booking=booking, segment=segment, to_flight_id=to_flight_id, actor=actor)
    if (current.amount_due, current.refund_due) != (promised.amount_due, promised.refund_due):
        raise QuoteChanged(
            f"This change now costs {current.amount_due} {current.currency} (refund {current.refund_due}), "
            f"not the {promised.amount_due} (refund {promised.refund_due}) quoted; nothing was charged or "
            "moved. Ask for a new quote."
        )
    if current.amount_due == 0:
        change, refunds = _change_without_charge(
            booking_id=booking.pk, quote=current, actor=actor, idempotency_key=idempotency_key
        )
        if not refunds_send(refunds, actor=actor):
            logger.warning("Refund of flight change %s left pending for reconciliation", change.pk)
        return change
    if not payment_method:
        raise ValidationFailed(
            "This change costs something: name the card to charge.",
            errors={"payment_method": ["Required when the change costs something."]},
        )
    payment, stage = _change_payment_begin(
        booking_id=booking.pk,
        quote=current,
        promised=promised,
        actor=actor,
        payment_method=payment_method,
        idempotency_key=idempotency_key,
    )
    if stage == "settled":
        return payment.flight_change
    result = payment_charge_at_gateway(payment, resume=stage == "resume")
    return change_payment_finalize(payment_id=payment.pk, result=result, actor=actor)


def _locked_for_change(booking: Booking) -> list[Payment]:
    """The booking's payments locked (after the booking), once checked that a change may proceed: no
    other change being paid (PaymentInProgress, 409), no cancellation begun (BookingNotMovable, 409)."""
    payments = lock_rows(Payment.objects.filter(KEPT, booking_id=booking.pk))
    if Payment.objects.filter(
        booking_id=booking.pk, kind=Payment.Kind.CHANGE, status=Payment.Status.PROCESSING
    ).exists():
        raise PaymentInProgress("Another change of this booking is being paid; try again in a moment.")
    if final_refunds_of(payments):
        raise BookingNotMovable("The booking is being cancelled.")
    return payments


@retry_on_lock_conflict
def _change_without_charge(
    *, booking_id: int, quote: FlightChangeQuote, actor: User, idempotency_key: str
) -> tuple[FlightChange, list[Refund]]:
    """A change that costs nothing or refunds: the seats moved and the refund decided in one transaction."""
    now = timezone.now()
    with locked_transaction():
        booking, to_flight = booking_lock_for_move(booking_id=booking_id, to_flight_id=quote.to_flight.pk)
        payments = _locked_for_change(booking)
        change = flight_change_record(
            booking=booking, quote=quote, actor=actor, idempotency_key=idempotency_key
        )
        flight_change_apply_locked(booking=booking, to_flight=to_flight, change=change, now=now)
        refunds = refunds_reserve_change(change=change, payments=payments)
    return change, refunds


@retry_on_lock_conflict
def _change_payment_begin(
    *,
    booking_id: int,
    quote: FlightChangeQuote,
    promised: QuotedPrice,
    actor: User,
    payment_method: str,
    idempotency_key: str,
) -> tuple[Payment, Literal["new", "resume", "settled"]]:
    """Step 1: the pending change and its processing payment, or the payment of this key to resume or
    answer ("settled": it succeeded, the seats moved)."""
    with locked_transaction():
        booking = booking_lock(booking_id=booking_id)
        earlier = (
            Payment.objects.filter(
                booking=booking, owner=actor, kind=Payment.Kind.CHANGE, idempotency_key=idempotency_key
            )
            .select_related("flight_change")
            .order_by("-pk")
            .first()
        )
        if earlier is not None and earlier.status in (Payment.Status.SUCCEEDED, Payment.Status.PROCESSING):
            change = earlier.flight_change
            if (change.segment, change.to_flight_id) != (quote.segment, quote.to_flight.pk):
                raise IdempotencyKeyReused("This key was used for a change to another flight.")
            if earlier.status == Payment.Status.SUCCEEDED:
                return earlier, "settled"
            earlier = lock_rows(Payment.objects.filter(pk=earlier.pk))[0]
            earlier.leased_at = timezone.now()
            earlier.save(update_fields=["leased_at", "updated_at"])
            return earlier, "resume"
        if booking.status != Booking.Status.CONFIRMED:
            raise BookingNotMovable(f"The booking is {booking.get_status_display().lower()}.")
        _locked_for_change(booking)
        change = flight_change_record(
            booking=booking, quote=quote, actor=actor, idempotency_key=idempotency_key
        )
        payment = Payment.objects.create(
            booking=booking,
            owner=actor,
            kind=Payment.Kind.CHANGE,
            flight_change=change,
            amount=promised.amount_due,
            currency=booking.currency,
            payment_method=payment_method,
            idempotency_key=idempotency_key,
            gateway_idempotency_key=f"chg_{booking.pk}_{secrets.token_hex(12)}",
        )
        return payment, "new"


def change_payment_finalize(
    *, payment_id: int, result: ChargeResult, actor: User | None = None
) -> FlightChange:
    """Step 3 for the client waiting: `change_payment_settle`, then its outcome raised. Returns the change
    made; raises PaymentDeclined (402) for a declined card, and the move's refusal (409) for a charge
    whose seats could not move, its detail saying the charge was (or will be) refunded."""
    refusal = change_payment_settle(payment_id=payment_id, result=result, actor=actor)
    if refusal is not None:
        raise refusal
    payment = Payment.objects.select_related("flight_change").get(pk=payment_id)
    if payment.status == Payment.Status.DECLINED:
        raise PaymentDeclined(payment.decline_reason or "The payment was declined.")
    return payment.flight_change


def change_payment_settle(
    *, payment_id: int, result: ChargeResult, actor: User | None = None
) -> ApplicationError | None:
    """Step 3: record the gateway's answer for a processing change payment; running it twice is harmless.

    Succeeded → the seats moved at the price charged (`flight_change_apply_locked`), the payment
    succeeded (`succeeded_for_change`: the database admits one kept charge per change), "paid" audited.
    Declined → the payment declined, the change failed, "payment_declined" audited. A charge whose seats
    cannot move → the payment and the change failed, the charge refunded in full (GatewayTimeout: the
    reconciler refunds it), and the refusal returned, its detail saying so. `actor` is the traveller,
    None when the reconciler settles it. Returns None, or that refusal.
    """
    refusal = _change_payment_record_outcome(payment_id=payment_id, result=result, actor=actor)
    if refusal is None:
        return None
    try:
        payment_charge_refund(payment_id=payment_id, reason=refusal.detail)
    except GatewayTimeout:
        logger.warning("Gateway timeout refunding change payment %s; left for reconciliation", payment_id)
        return type(refusal)(f"{refusal.detail} The charge will be refunded.", errors=refusal.errors)
    return type(refusal)(f"{refusal.detail} The charge was refunded.", errors=refusal.errors)


@retry_on_lock_conflict
def _change_payment_record_outcome(
    *, payment_id: int, result: ChargeResult, actor: User | None
) -> ApplicationError | None:
    """None, or why a successful charge could not move the seats (the charge then goes back)."""
    booking_id, change_id = Payment.objects.values_list("booking_id", "flight_change_id").get(pk=payment_id)
    change = FlightChange.objects.select_related("requested_by").get(pk=change_id)
    now = timezone.now()
    with locked_transaction():
        booking, to_flight = booking_lock_for_move(booking_id=booking_id, to_flight_id=change.to_flight_id)
        # The booking's payments with this one, by ascending id: a cancellation decides its refunds
        # under their locks, so it is either seen here or comes after this settlement.
        locked = lock_rows(Payment.objects.filter(KEPT | Q(pk=payment_id), booking_id=booking_id))
        payment = next(row for row in locked if row.pk == payment_id)
        kept = [row for row in locked if row.pk != payment_id]
        if payment.status != Payment.Status.PROCESSING:
            # Settled already (a retry and the reconciler may race). Only a success for a payment that
            # failed (given up by the reconciler) still needs its money back.
            if not payment_charged_after_failing(payment, result):
                return None
            return BookingNotMovable(payment.decline_reason or "The change could not be made.")
        payment.gateway_reference = result.reference
        payment.processed_at = now
        if not result.succeeded:
            payment_declined_record(payment, result, booking=booking, actor=actor)
            flight_change_fail(change_id=change.pk, reason=payment.decline_reason)
            return None
        try:
            if booking.status != Booking.Status.CONFIRMED:
                raise BookingNotMovable(f"The booking is {booking.get_status_display().lower()}.")
            if final_refunds_of(kept):
                raise BookingNotMovable("The booking is being cancelled.")
            with transaction.atomic():  # a savepoint: a refused move leaves nothing half written
                flight_change_apply_locked(booking=booking, to_flight=to_flight, change=change, now=now)
        except ApplicationError as refusal:
            payment.status = Payment.Status.FAILED
            payment.decline_reason = refusal.detail[:255]
            payment.save(
                update_fields=["status", "gateway_reference", "processed_at", "decline_reason", "updated_at"]
            )
            flight_change_fail(change_id=change.pk, reason=refusal.detail)
            return refusal
        payment.status = Payment.Status.SUCCEEDED
        payment.succeeded_for_change = change
        payment.save(
            update_fields=[
                "status",
                "gateway_reference",
                "processed_at",
                "succeeded_for_change",
                "updated_at",
            ]
        )
        payment_audit(Action.PAID, payment, booking, actor)
        return None
