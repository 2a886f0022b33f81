"""The cancellation quote: what cancelling a booking now would refund, seat by seat, before anyone confirms.

The traveller's own cancellation follows each seat's fare rule (apps/bookings/refund_rules.py); staff
cancelling someone else's booking, and the airline cancelling a flight, refund in full. Whatever the
rules say, no more goes back than was paid and not yet refunded (the payments app's records, through the
money reader). `booking_cancel` computes the same quote when it cancels and refunds exactly its amount;
a quote token handed out here lets it refuse (QuoteChanged) when that amount is no longer what the
traveller was shown (docs/ARCHITECTURE.md, "Request path of a cancellation with a partial refund").
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core import signing
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings import refund_rules
from apps.bookings.exceptions import BookingNotFound, QuoteChanged, QuoteInvalid
from apps.bookings.models import Booking, InfantFare, SeatAssignment
from apps.bookings.refund_rules import RefundKind
from apps.bookings.selectors import booking_money_record, staff_sees_all_bookings
from apps.core.permissions import staff_may

QUOTE_VALID_FOR = timedelta(minutes=15)
_TOKEN_SALT = "bookings.cancellation-quote"
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class QuoteLine:
    """One seat (a passenger on one flight of the journey): its price, its rule, what it gives back."""

    segment: int
    flight_number: str
    passenger: str
    seat_code: str
    rule: RefundKind
    fee: Decimal
    price: Decimal
    taxes: Decimal
    amount: Decimal


@dataclass(frozen=True)
class CancellationQuote:
    """`amount` is what the cancel refunds: the lines summed, rounded once to the cent, capped at
    `refundable` (what was paid, flight changes' charges included and their refunds taken off; 0 for a
    booking never paid); all of `refundable` when the rules do not apply. `rules_apply`: the traveller's own
    cancellation (False: staff or the airline, everything refunded). `refunded_already`: the payment
    was refunded already (by this cancellation, whose cancel did not finish): `amount` is that refund,
    and nothing more goes back."""

    reference: str
    currency: str
    lines: tuple[QuoteLine, ...]
    amount: Decimal
    refundable: Decimal
    rules_apply: bool
    refunded_already: bool
    quoted_at: datetime

    @property
    def expires_at(self) -> datetime:
        return self.quoted_at + QUOTE_VALID_FOR

    @property
    def token(self) -> str:
        """A signed token naming the booking and the amount, accepted by the cancel until `expires_at`."""
        return signing.dumps(
            {"reference": self.reference, "amount": str(self.amount), "currency": self.currency},
            salt=_TOKEN_SALT,
        )


def booking_cancellation_quote(*, booking: Booking, actor: User) -> CancellationQuote:
    """What `actor` cancelling `booking` now would refund, line by line (no write, no lock).

    The owner's cancellation follows the fare rules; staff holding bookings.change_booking cancelling
    someone else's booking refund in full. Raises BookingNotFound (404) to anyone who may not see the
    booking (staff who may see it but not change it get the quote of a full refund: they read it only).
    """
    by_owner = actor.pk == booking.owner_id
    if (
        not by_owner
        and not staff_may(actor, "bookings.change_booking")
        and not staff_sees_all_bookings(actor)
    ):
        raise BookingNotFound()
    status = Booking.objects.values_list("status", flat=True).get(pk=booking.pk)
    return cancellation_quote(booking, status=status, rules_apply=by_owner)


def cancellation_quote(booking: Booking, *, status: str, rules_apply: bool) -> CancellationQuote:
    """The quote of `booking` in `status` (the cancellation's own reading); see CancellationQuote."""
    seats = list(
        SeatAssignment.objects.filter(booking_id=booking.pk, active=True)
        .select_related("flight", "passenger")
        .order_by("segment", "passenger__position")
    )
    lines = tuple(
        sorted(
            [_line(seat, rules_apply=rules_apply) for seat in seats]
            + _infant_lines(booking, seats, rules_apply=rules_apply),
            key=lambda line: line.segment,  # stable: each flight's seats in passenger order, then infants
        )
    )
    owed = sum((line.amount for line in lines), Decimal("0")).quantize(_CENT, rounding=ROUND_HALF_UP)
    refundable, amount, refunded_already = Decimal("0"), Decimal("0"), False
    if status == Booking.Status.CONFIRMED:
        money = booking_money_record(booking)
        if money.refunded is not None:
            # A payment is refunded once (one Refund row per payment): this cancellation's refund went
            # through and its cancel is still to finish (a racing cancel, a crash after the refund).
            refundable, amount, refunded_already = money.refunded, money.refunded, True
        elif money.paid is not None:
            refundable = money.net_paid
            # Staff and the airline give back everything the booking holds, a flight change's fee too;
            # the traveller's own cancellation, what the rules give for the seats it holds now.
            amount = min(owed, refundable) if rules_apply else refundable
    return CancellationQuote(
        reference=booking.reference,
        currency=booking.currency,
        lines=lines,
        amount=amount,
        refundable=refundable,
        rules_apply=rules_apply,
        refunded_already=refunded_already,
        quoted_at=timezone.now(),
    )


def _line(seat: SeatAssignment, *, rules_apply: bool) -> QuoteLine:
    rule = refund_rules.refund_rule_for(seat) if rules_apply else refund_rules.FULL_REFUND
    taxes = min(refund_rules.seat_taxes(seat), seat.fare)
    if rule.kind == "full":
        amount = seat.fare
    elif rule.kind == "fee":
        amount = max(Decimal("0"), seat.fare - rule.fee)
    else:
        amount = taxes
    return QuoteLine(
        segment=seat.segment,
        flight_number=seat.flight.flight_number,
        passenger=f"{seat.passenger.first_name} {seat.passenger.last_name}",
        seat_code=seat.seat_code,
        rule=rule.kind,
        fee=rule.fee if rule.kind == "fee" else Decimal("0"),
        price=seat.fare,
        taxes=taxes,
        amount=amount,
    )


def _infant_lines(booking: Booking, seats: list[SeatAssignment], *, rules_apply: bool) -> list[QuoteLine]:
    """An infant's price on each flight (it has no seat: apps/bookings/models.py, InfantFare) goes back
    under the rule of the seat of the adult it travels with on that flight, and only while that seat is
    still held or sold; an infant's fare carries no taxes of its own."""
    adult_seats = {(seat.passenger.position, seat.segment): seat for seat in seats}
    lines = []
    infant_fares = InfantFare.objects.filter(passenger__booking_id=booking.pk).select_related("passenger")
    for infant_fare in infant_fares:
        infant = infant_fare.passenger
        adult_seat = adult_seats.get((infant.travelling_with, infant_fare.segment))
        if adult_seat is None:
            continue
        rule = refund_rules.refund_rule_for(adult_seat) if rules_apply else refund_rules.FULL_REFUND
        if rule.kind == "full":
            amount = infant_fare.fare
        elif rule.kind == "fee":
            amount = max(Decimal("0"), infant_fare.fare - rule.fee)
        else:
            amount = Decimal("0")
        lines.append(
            QuoteLine(
                segment=infant_fare.segment,
                flight_number=adult_seat.flight.flight_number,
                passenger=f"{infant.first_name} {infant.last_name}",
                seat_code="",
                rule=rule.kind,
                fee=rule.fee if rule.kind == "fee" else Decimal("0"),
                price=infant_fare.fare,
                taxes=Decimal("0"),
                amount=amount,
            )
        )
    return lines


def quote_token_amount(token: str, *, booking: Booking) -> Decimal:
    """The amount a quote token (CancellationQuote.token) promised for `booking`.

    Raises QuoteInvalid (400, field `quote`) for a token that is not one of ours or names another
    booking, QuoteChanged (409) for one past its `expires_at`.
    """
    try:
        data = signing.loads(token, salt=_TOKEN_SALT, max_age=QUOTE_VALID_FOR)
    except signing.SignatureExpired:
        raise QuoteChanged("The quote has expired; ask for a new one.") from None
    except signing.BadSignature:
        raise QuoteInvalid(errors={"quote": ["Not a cancellation quote of this booking."]}) from None
    if data.get("reference") != booking.reference or data.get("currency") != booking.currency:
        raise QuoteInvalid(errors={"quote": ["Not a cancellation quote of this booking."]})
    return Decimal(data["amount"])
