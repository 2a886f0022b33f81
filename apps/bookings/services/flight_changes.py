"""A traveller changes a flight of their confirmed booking to another on the same route: what it costs
(the quote), and the change made at that price under the move's locks (docs/FARES.md, "Changing a
flight").

The price of the change, per passenger of the segment, in the fare family (and so the cabin) their seat
was sold in: the family's price on the new flight (`Flight.family_fares`; a seat sold without a family:
the cabin's fare), a child's or an infant's share of it as when holding, its taxes split again for the
new flight (`price_split`), less what the seat (or the infant's fare) cost; plus the family's change fee
for each passenger with a seat (an infant, on a lap, pays none). The differences and fees are summed:

- more than 0: the traveller pays it (`amount_due`), the difference and the fees;
- less than 0 (a cheaper flight): it is refunded (`refund_due`), the fees taken off first. A cheaper
  fare's difference goes back only where the family refunds (its refund rule is not "none": Flex, not
  Saver); a non-refundable fare's is kept by the airline (`residual_kept`), as is usual, and its
  traveller still pays the fees. What goes back is never more than the booking holds of what was paid.

The money moves in the payments app (apps/payments/services/changes.py: `booking_flight_change`),
which charges first and then asks `flight_change_apply_locked` to move the seats, the quote taken again
under the locks and held to what was charged; the seats' rows take their new price, fare family and
taxes, and `Booking.total_amount` stays the sum of the booking's fares.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core import signing
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.events import BookingSegmentMoved
from apps.bookings.exceptions import (
    BookingNotFound,
    BookingNotMovable,
    ChangeNotAllowed,
    QuoteChanged,
    QuoteInvalid,
)
from apps.bookings.models import Booking, FlightChange, InfantFare, Passenger, SeatAssignment
from apps.bookings.pricing import passenger_fare
from apps.bookings.selectors import booking_money_record, booking_segment_flights, staff_sees_all_bookings
from apps.bookings.services.changes import (
    MovePrice,
    SeatPrice,
    new_flight_ensure,
    seats_for,
    segment_ensure,
    segment_move_locked,
)
from apps.core.exceptions import ApplicationError
from apps.flights.exceptions import FlightNotFound
from apps.flights.fares import PriceSplit, airport_charge, fare_family_catalogue_cached, price_split
from apps.flights.models import Cabin, FareFamily, Flight
from apps.flights.selectors import local_day_window

CHANGE_QUOTE_VALID_FOR = timedelta(minutes=15)
_TOKEN_SALT = "bookings.change-quote"
ZERO = Decimal("0")


@dataclass(frozen=True)
class ChangeLine:
    """One passenger of the segment: what they paid, what the new flight costs them, the fee."""

    passenger_id: int
    passenger: str
    passenger_type: str
    seat_code: str  # on the old flight; "" for an infant on a lap
    fare_family: str  # the family's code ("" for a seat sold without one)
    old_price: Decimal
    new_price: Decimal
    fee: Decimal
    refundable: bool  # a cheaper new fare's difference goes back (the family refunds); else it is kept
    split: PriceSplit | None  # the new price's base fare and taxes (None for an infant: base fare only)

    @property
    def difference(self) -> Decimal:
        return self.new_price - self.old_price


@dataclass(frozen=True)
class FlightChangeQuote:
    """What changing segment `segment` of a booking to `to_flight` costs now (module docstring)."""

    reference: str
    currency: str
    segment: int
    from_flight: Flight
    to_flight: Flight
    lines: tuple[ChangeLine, ...]
    fare_difference: Decimal  # the new fares less the old, signed
    change_fee: Decimal
    residual_kept: Decimal  # of a cheaper non-refundable fare, not given back
    amount_due: Decimal  # to pay: the difference and the fees
    refund_due: Decimal  # to get back: the refundable difference less the fees, never above what was paid
    quoted_at: datetime

    @property
    def old_fares(self) -> Decimal:
        return sum((line.old_price for line in self.lines), ZERO)

    @property
    def new_fares(self) -> Decimal:
        return sum((line.new_price for line in self.lines), ZERO)

    @property
    def expires_at(self) -> datetime:
        return self.quoted_at + CHANGE_QUOTE_VALID_FOR

    @property
    def token(self) -> str:
        """A signed token naming the booking, the change and its price, accepted by the change until
        `expires_at` (`change_quote_token_read`)."""
        return signing.dumps(
            {
                "reference": self.reference,
                "segment": self.segment,
                "to_flight_id": self.to_flight.pk,
                "amount_due": str(self.amount_due),
                "refund_due": str(self.refund_due),
                "currency": self.currency,
            },
            salt=_TOKEN_SALT,
        )

    def move_price(self, change_id: int) -> MovePrice:
        """The prices the moved rows take (apps/bookings/services/changes.py: `segment_move_locked`)."""
        return MovePrice(
            seats={
                line.passenger_id: SeatPrice(
                    fare=line.new_price,
                    base_fare=line.split.base_fare,
                    taxes=line.split.taxes,
                    fare_family=line.fare_family,
                )
                for line in self.lines
                if line.split is not None
            },
            infant_fares={line.passenger_id: line.new_price for line in self.lines if line.split is None},
            fare_difference=self.fare_difference,
            change_fee=self.change_fee,
            residual_kept=self.residual_kept,
            amount_charged=self.amount_due,
            amount_refunded=self.refund_due,
            change_id=change_id,
        )


def flight_change_quote(
    *, booking: Booking, segment: int, to_flight_id: int, actor: User, now: datetime | None = None
) -> FlightChangeQuote:
    """What `actor` changing segment `segment` of `booking` to the flight `to_flight_id` would cost now
    (no write, no lock; module docstring).

    The booking's owner changes it; staff who see every booking may read the quote too (anyone else:
    BookingNotFound, 404; staff rebook through `booking_segment_move`). Refused with: ValidationFailed
    (400, `segment`) for a segment the booking has not; FlightNotFound (404); BookingNotMovable (409)
    unless the booking is confirmed and the segment's flight has not left; the move's rules for the
    new flight (`new_flight_ensure`: 400 `validation_error` or `move_other_route`, 409
    `flight_not_bookable` or `move_connection_broken`); ChangeNotAllowed (409) when a seat's fare
    family forbids changes or the new flight does not sell it; SoldOut (409) without a free seat for
    each passenger in their cabin.
    """
    current = _booking_as_read(booking, actor, segment)
    to_flight = _flights_shown().filter(pk=to_flight_id).first()
    if to_flight is None:
        raise FlightNotFound(f"Flight {to_flight_id} does not exist.")
    return change_quote_for(current, segment=segment, to_flight=to_flight, now=now or timezone.now())


def _booking_as_read(booking: Booking, actor: User, segment: int) -> Booking:
    """`booking` read again with its journey's flights (`segment_flights`), for its owner or staff who
    see every booking (BookingNotFound, 404, to anyone else); ValidationFailed for a segment it has not."""
    if actor.pk != booking.owner_id and not staff_sees_all_bookings(actor):
        raise BookingNotFound()
    segment_ensure(booking, segment)
    current = Booking.objects.select_related(
        "flight__airplane", "flight__departure_airport__city", "flight__arrival_airport__city"
    ).get(pk=booking.pk)
    current.segment_flights = booking_segment_flights(current)
    return current


def _flights_shown() -> QuerySet[Flight]:
    return Flight.objects.select_related("airplane", "departure_airport__city", "arrival_airport__city")


@dataclass(frozen=True)
class ChangeOption:
    """A flight the segment could change to, and what that costs (`quote`), or why it cannot (`refusal`:
    sold out in the traveller's cabin, not selling their fare, a connection it would break, …)."""

    flight: Flight
    quote: FlightChangeQuote | None
    refusal: ApplicationError | None


def flight_change_options(
    *, booking: Booking, segment: int, day: date | None, actor: User, now: datetime | None = None
) -> tuple[Flight, date, list[ChangeOption]]:
    """The flights segment `segment` of `booking` could change to on `day` (the local date at the
    segment's departure airport; None: the segment's own day), each with its quote or its refusal,
    by departure: scheduled flights between the same cities in the booking's currency, other than the
    journey's. Returns the segment's flight, the day and the options.

    The booking itself must be changeable first (`flight_change_refusal`: BookingNotMovable or
    ChangeNotAllowed, 409); who may ask and the other errors as `flight_change_quote`.
    """
    now = now or timezone.now()
    current = _booking_as_read(booking, actor, segment)
    from_flight = current.segment_flights[segment - 1]
    zone = from_flight.departure_airport.time_zone
    day = day or from_flight.departure_time.astimezone(ZoneInfo(zone)).date()
    refusal = flight_change_refusal(current, segment, now)
    if refusal is not None:
        raise refusal
    start, end = local_day_window(day, zone)
    candidates = (
        _flights_shown()
        .filter(
            departure_airport__city_id=from_flight.departure_airport.city_id,
            arrival_airport__city_id=from_flight.arrival_airport.city_id,
            currency=current.currency,
            status=Flight.Status.SCHEDULED,
            departure_time__gte=max(start, now),
            departure_time__lt=end,
        )
        .exclude(pk__in=[flight.pk for flight in current.segment_flights])
        .order_by("departure_time", "pk")
    )
    options = []
    for flight in candidates:
        try:
            quote = change_quote_for(current, segment=segment, to_flight=flight, now=now)
        except ApplicationError as error:
            options.append(ChangeOption(flight=flight, quote=None, refusal=error))
        else:
            options.append(ChangeOption(flight=flight, quote=quote, refusal=None))
    return from_flight, day, options


def flight_change_refusal(booking: Booking, segment: int, now: datetime) -> ApplicationError | None:
    """Why the traveller cannot change segment `segment` of `booking` to any flight now, or None: the
    booking is not confirmed or the flight has left (BookingNotMovable), a seat's fare family forbids
    changes (ChangeNotAllowed). `booking.segment_flights`, or its journey read, gives the flight."""
    if booking.status != Booking.Status.CONFIRMED:
        return BookingNotMovable(
            "Only a paid booking can change flights."
            if booking.status in (Booking.Status.HELD, Booking.Status.PAYING)
            else f"The booking is {booking.get_status_display().lower()}."
        )
    flights = getattr(booking, "segment_flights", None) or booking_segment_flights(booking)
    if flights[segment - 1].has_departed(now):
        return BookingNotMovable(f"{flights[segment - 1].flight_number} has departed.")
    catalogue = fare_family_catalogue_cached()
    codes = set(
        SeatAssignment.objects.filter(booking_id=booking.pk, segment=segment, active=True).values_list(
            "fare_family", flat=True
        )
    )
    for code in sorted(codes):
        family = catalogue.get(code) if code else None
        if family is not None and not family.change_allowed:
            return ChangeNotAllowed(f"Your fare, {family.name}, does not allow changes.")
    return None


def change_quote_for(
    booking: Booking, *, segment: int, to_flight: Flight, now: datetime
) -> FlightChangeQuote:
    """The quote of `booking` as read (`booking.segment_flights` its flights), whether read plainly or
    under the move's locks; the rules and errors of `flight_change_quote`."""
    from_flight = booking.segment_flights[segment - 1]
    if booking.status != Booking.Status.CONFIRMED or from_flight.has_departed(now):
        raise flight_change_refusal(booking, segment, now)
    new_flight_ensure(booking, segment, to_flight, now)
    rows = list(
        SeatAssignment.objects.filter(booking_id=booking.pk, segment=segment, active=True)
        .select_related("passenger")
        .order_by("passenger__position")
    )
    if not rows:
        raise BookingNotMovable(f"Booking {booking.reference} has no seats on {from_flight.flight_number}.")
    catalogue = fare_family_catalogue_cached()
    charge = airport_charge(to_flight.departure_airport, booking.currency)
    lines: list[ChangeLine] = []
    adults: dict[int, tuple[FareFamily | None, Decimal, ChangeLine]] = {}  # by the passenger's position
    for row in rows:
        family = catalogue.get(row.fare_family) if row.fare_family else None
        adult_price = _adult_price(row, family, to_flight)
        price = passenger_fare(adult_price, row.passenger.type, family, currency=booking.currency)
        line = ChangeLine(
            passenger_id=row.passenger_id,
            passenger=_name(row.passenger),
            passenger_type=row.passenger.type,
            seat_code=row.seat_code,
            fare_family=row.fare_family,
            old_price=row.fare,
            new_price=price,
            fee=family.change_fee if family is not None else ZERO,
            refundable=family is None or family.refund_rule != FareFamily.RefundRule.NONE,
            split=price_split(price, cabin=row.cabin, charge=charge),
        )
        lines.append(line)
        adults[row.passenger.position] = (family, adult_price, line)
    for infant_fare in InfantFare.objects.filter(
        passenger__booking_id=booking.pk, segment=segment
    ).select_related("passenger"):
        infant = infant_fare.passenger
        family, adult_price, adult = adults[infant.travelling_with]
        lines.append(
            ChangeLine(
                passenger_id=infant.pk,
                passenger=_name(infant),
                passenger_type=infant.type,
                seat_code="",
                fare_family=adult.fare_family,
                old_price=infant_fare.fare,
                new_price=passenger_fare(adult_price, infant.type, family, currency=booking.currency),
                fee=ZERO,
                refundable=adult.refundable,
                split=None,
            )
        )
    seats_for(rows, to_flight)  # SoldOut now rather than after paying (the move checks again, locked)
    return _priced(booking, segment, from_flight, to_flight, tuple(lines), now)


def _adult_price(row: SeatAssignment, family: FareFamily | None, to_flight: Flight) -> Decimal:
    """An adult's price on `to_flight` in the family `row` was sold in (its cabin's fare without one)."""
    if family is not None and not family.change_allowed:
        raise ChangeNotAllowed(f"Your fare, {family.name}, does not allow changes.")
    if row.fare_family:
        sold = to_flight.family_fare(row.fare_family)
        if sold is None:
            name = family.name if family is not None else row.fare_family
            raise ChangeNotAllowed(f"{to_flight.flight_number} does not sell your fare, {name}.")
        return sold[1]
    price = to_flight.fare_for(row.cabin)
    if price is None:
        raise ChangeNotAllowed(f"{to_flight.flight_number} has no {Cabin(row.cabin).label} cabin.")
    return price


def _priced(
    booking: Booking,
    segment: int,
    from_flight: Flight,
    to_flight: Flight,
    lines: tuple[ChangeLine, ...],
    now: datetime,
) -> FlightChangeQuote:
    """Sum the lines (module docstring): what is paid, or given back, never more than was paid."""
    payable = sum((line.difference for line in lines if line.difference >= 0 or line.refundable), ZERO)
    kept = sum((-line.difference for line in lines if line.difference < 0 and not line.refundable), ZERO)
    fee = sum((line.fee for line in lines), ZERO)
    total = payable + fee
    refund_due = min(max(ZERO, -total), booking_money_record(booking).net_paid)
    return FlightChangeQuote(
        reference=booking.reference,
        currency=booking.currency,
        segment=segment,
        from_flight=from_flight,
        to_flight=to_flight,
        lines=lines,
        fare_difference=sum((line.difference for line in lines), ZERO),
        change_fee=fee,
        residual_kept=kept,
        amount_due=max(ZERO, total),
        refund_due=refund_due,
        quoted_at=now,
    )


def _name(passenger: Passenger) -> str:
    return f"{passenger.first_name} {passenger.last_name}"


@dataclass(frozen=True)
class QuotedPrice:
    """What a change quote token promised: to pay, or to get back."""

    amount_due: Decimal
    refund_due: Decimal


def change_quote_token_read(token: str, *, booking: Booking, segment: int, to_flight_id: int) -> QuotedPrice:
    """What a change quote token (FlightChangeQuote.token) promised for this change of `booking`.

    Raises QuoteInvalid (400, field `quote`) for a token that is not one of ours or names another
    booking, flight or new flight, QuoteChanged (409) for one past its `expires_at`.
    """
    try:
        data = signing.loads(token, salt=_TOKEN_SALT, max_age=CHANGE_QUOTE_VALID_FOR)
    except signing.SignatureExpired:
        raise QuoteChanged("The quote has expired; ask for a new one.") from None
    except signing.BadSignature:
        raise QuoteInvalid(errors={"quote": ["Not a change quote of this booking."]}) from None
    if (data.get("reference"), data.get("segment"), data.get("to_flight_id"), data.get("currency")) != (
        booking.reference,
        segment,
        to_flight_id,
        booking.currency,
    ):
        raise QuoteInvalid(
            errors={"quote": ["Not a quote of this change: another booking, flight or new flight."]}
        )
    return QuotedPrice(amount_due=Decimal(data["amount_due"]), refund_due=Decimal(data["refund_due"]))


def flight_change_record(
    *, booking: Booking, quote: FlightChangeQuote, actor: User, idempotency_key: str
) -> FlightChange:
    """Write the change `actor` asked for at `quote`'s price, pending (its payment runs, or its seats
    move in this transaction): the caller holds the booking's lock."""
    return FlightChange.objects.create(
        booking=booking,
        segment=quote.segment,
        from_flight=quote.from_flight,
        to_flight=quote.to_flight,
        requested_by=actor,
        idempotency_key=idempotency_key,
        currency=quote.currency,
        fare_difference=quote.fare_difference,
        change_fee=quote.change_fee,
        residual_kept=quote.residual_kept,
        amount_due=quote.amount_due,
        refund_due=quote.refund_due,
    )


def flight_change_apply_locked(
    *, booking: Booking, to_flight: Flight, change: FlightChange, now: datetime
) -> BookingSegmentMoved:
    """Make the pending `change`: the quote taken again on the rows `booking_lock_for_move` locked in the
    caller's transaction, and held to the price the change was asked (and paid) at (QuoteChanged, 409,
    when it moved), then the seats moved at the new prices (`segment_move_locked`, audited "changed",
    the traveller e-mailed with what was charged or refunded) and the change DONE. Raises what
    `flight_change_quote` raises; raising, it has written nothing the caller's transaction keeps.
    """
    quote = change_quote_for(booking, segment=change.segment, to_flight=to_flight, now=now)
    if (quote.amount_due, quote.refund_due) != (change.amount_due, change.refund_due):
        raise QuoteChanged(
            f"The change now costs {quote.amount_due} {quote.currency} (refund {quote.refund_due}), not "
            f"the {change.amount_due} (refund {change.refund_due}) quoted; nothing moved."
        )
    moved = segment_move_locked(
        booking=booking,
        segment=change.segment,
        to_flight=to_flight,
        actor=change.requested_by,
        by_airline=False,
        now=now,
        price=quote.move_price(change.pk),
    )
    change.status, change.completed_at = FlightChange.Status.DONE, now
    change.save(update_fields=["status", "completed_at", "updated_at"])
    return moved


def flight_change_fail(*, change_id: int, reason: str) -> None:
    """A pending change whose payment was declined, given up, or whose seats could not move: FAILED, with
    why; nothing of the booking changed."""
    FlightChange.objects.filter(pk=change_id, status=FlightChange.Status.PENDING).update(
        status=FlightChange.Status.FAILED, failure_reason=reason[:255], updated_at=timezone.now()
    )
