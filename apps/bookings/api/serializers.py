"""How a booking looks in the API (shared by every bookings endpoint).

BookingOutput describes the shape (the OpenAPI document is generated from it); `booking_body`
builds the same JSON without a serializer (apps/bookings/tests/test_api.py holds the two together).
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.bookings.models import Booking, Passenger, Segment
from apps.bookings.pricing import PriceBreakdown, price_breakdown
from apps.bookings.services.flight_changes import ChangeOption, FlightChangeQuote
from apps.bookings.services.quotes import CancellationQuote
from apps.flights.api.serializers import FlightOutput, datetime_text, flight_body, money_text
from apps.flights.models import Flight


def _active_seat_code(passenger: Passenger, segment: int = 1) -> str | None:
    assignment = passenger.seat_on(segment)
    return assignment.seat_code if assignment is not None and assignment.active else None


class PassengerOutput(serializers.Serializer):
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    type = serializers.ChoiceField(choices=Passenger.Type.choices)
    date_of_birth = serializers.DateField(allow_null=True)
    travelling_with = serializers.IntegerField(
        allow_null=True, help_text="An infant's adult: that passenger's 1-based place in `passengers`."
    )
    seat = serializers.SerializerMethodField(
        help_text="Seat code; null once the seat is released, and always for an infant (no seat)."
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_seat(self, passenger: Passenger) -> str | None:
        return _active_seat_code(passenger)


class SegmentOutput(serializers.Serializer):
    position = serializers.IntegerField(help_text="1-based, in travel order.")
    flight = FlightOutput()
    seats = serializers.SerializerMethodField(
        help_text="Each passenger's seat on this flight, in passenger order; null once released."
    )

    @extend_schema_field(serializers.ListField(child=serializers.CharField(allow_null=True)))
    def get_seats(self, segment: Segment) -> list[str | None]:
        return [seat.seat_code if seat is not None and seat.active else None for _, seat in segment.seats]


class TaxOutput(serializers.Serializer):
    code = serializers.CharField(help_text="GST, or AIRPORT for the departing airport's charge.")
    name = serializers.CharField(help_text='As the traveller reads it, e.g. "User development fee".')
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class PriceOutput(serializers.Serializer):
    base_fare = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Every seat's base fare.")
    taxes = TaxOutput(many=True, help_text="Each tax or fee, summed over the seats.")
    total = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Base fare and taxes: the booking's total_amount."
    )


class BookingOutput(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Booking.Status.choices)
    flight = FlightOutput(help_text="The journey's first flight (the only one of a one-way booking).")
    segments = SegmentOutput(
        many=True, source="journey", help_text="Every flight of the journey, in travel order."
    )
    passengers = PassengerOutput(many=True)
    seats = serializers.SerializerMethodField(
        help_text="Seat codes held or sold on the first flight, e.g. 12A."
    )
    total_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    price = serializers.SerializerMethodField(help_text="How total_amount is made (docs/FARES.md).")
    currency = serializers.CharField()
    hold_expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(PriceOutput)
    def get_price(self, booking: Booking) -> dict[str, Any]:
        passengers = booking.passengers.all()
        return price_body(
            price_breakdown(
                (seat for passenger in passengers for seat in passenger.seats()),
                (line for passenger in passengers for line in passenger.lap_fares()),
            )
        )

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_seats(self, booking: Booking) -> list[str]:
        codes = (_active_seat_code(passenger) for passenger in booking.passengers.all())
        return [code for code in codes if code]


def price_body(breakdown: PriceBreakdown) -> dict[str, Any]:
    """PriceOutput's JSON."""
    return {
        "base_fare": money_text(breakdown.base_fare),
        "taxes": [
            {"code": tax.code, "name": tax.name, "amount": money_text(tax.amount)} for tax in breakdown.taxes
        ],
        "total": money_text(breakdown.total),
    }


def booking_body(booking: Booking, passengers: Sequence[Passenger]) -> dict[str, Any]:
    """BookingOutput's JSON. `booking.flight` has its airplane and airports with cities loaded;
    `passengers` are the booking's, in order, each with its seat assignments loaded (a hold's
    `passengers_held`, or `passengers_with_seats`); a journey's later flights come from
    `booking.segment_flights` when the hold or a lock set them, else from the seat assignments."""
    seats = [_active_seat_code(passenger) for passenger in passengers]
    first = flight_body(booking.flight)
    segments = [{"position": 1, "flight": first, "seats": seats}]
    if booking.segment_count > 1:
        known = getattr(booking, "segment_flights", None)
        for position in range(2, booking.segment_count + 1):
            if known is not None:
                flight = known[position - 1]
            else:
                flight = next(s.flight for p in passengers if (s := p.seat_on(position)) is not None)
            segments.append(
                {
                    "position": position,
                    "flight": flight_body(flight),
                    "seats": [_active_seat_code(passenger, position) for passenger in passengers],
                }
            )
    breakdown = price_breakdown(
        (seat for passenger in passengers for seat in passenger.seats()),
        (line for passenger in passengers for line in passenger.lap_fares()),
    )
    return {
        "reference": booking.reference,
        "status": booking.status,
        "flight": first,
        "segments": segments,
        "passengers": [
            {
                "first_name": passenger.first_name,
                "last_name": passenger.last_name,
                "type": passenger.type,
                "date_of_birth": passenger.date_of_birth.isoformat() if passenger.date_of_birth else None,
                "travelling_with": passenger.travelling_with,
                "seat": seat,
            }
            for passenger, seat in zip(passengers, seats, strict=True)
        ],
        "seats": [seat for seat in seats if seat],
        "total_amount": money_text(booking.total_amount),
        "price": price_body(breakdown),
        "currency": booking.currency,
        "hold_expires_at": datetime_text(booking.hold_expires_at),
        "created_at": datetime_text(booking.created_at),
    }


class QuoteLineOutput(serializers.Serializer):
    segment = serializers.IntegerField(help_text="The flight's position in the journey (1-based).")
    flight_number = serializers.CharField()
    passenger = serializers.CharField(help_text="First and last name.")
    seat = serializers.CharField(allow_null=True, help_text="Null for an infant on an adult's lap.")
    rule = serializers.ChoiceField(
        choices=["full", "fee", "none"],
        help_text="The fare's refund rule: full; fee (the price minus `fee`); none (the taxes only).",
    )
    fee = serializers.CharField(help_text="Decimal string; 0.00 unless the rule is fee.")
    price = serializers.CharField(help_text="What the seat cost, decimal string.")
    taxes = serializers.CharField(help_text="The taxes and fees in the price, refunded under every rule.")
    amount = serializers.CharField(help_text="What this seat gives back, decimal string (before the cap).")


class CancellationQuoteOutput(serializers.Serializer):
    reference = serializers.CharField()
    amount = serializers.CharField(
        help_text="What cancelling now refunds, decimal string: the lines summed, rounded once, and never "
        "more than `refundable`."
    )
    currency = serializers.CharField()
    refundable = serializers.CharField(
        help_text="What was paid and can be refunded (0.00 for an unpaid hold)."
    )
    rules_apply = serializers.BooleanField(
        help_text="The fare's rules bind the owner's own cancellation; staff cancelling refund in full."
    )
    lines = QuoteLineOutput(many=True)
    quote = serializers.CharField(
        help_text="Send it to POST …/cancel: the cancel is refused (409 quote_changed) if it would refund "
        "another amount, or after `expires_at`."
    )
    expires_at = serializers.DateTimeField()


def quote_body(quote: CancellationQuote) -> dict[str, Any]:
    """CancellationQuoteOutput's JSON."""
    return {
        "reference": quote.reference,
        "amount": money_text(quote.amount),
        "currency": quote.currency,
        "refundable": money_text(quote.refundable),
        "rules_apply": quote.rules_apply,
        "lines": [
            {
                "segment": line.segment,
                "flight_number": line.flight_number,
                "passenger": line.passenger,
                "seat": line.seat_code or None,
                "rule": line.rule,
                "fee": money_text(line.fee),
                "price": money_text(line.price),
                "taxes": money_text(line.taxes),
                "amount": money_text(line.amount),
            }
            for line in quote.lines
        ],
        "quote": quote.token,
        "expires_at": datetime_text(quote.expires_at),
    }


# --- Changing a flight (docs/API.md, "Changing a flight") ---------------------------------------------


class ChangeLineOutput(serializers.Serializer):
    passenger = serializers.CharField(help_text="First and last name.")
    type = serializers.ChoiceField(choices=Passenger.Type.choices)
    seat = serializers.CharField(
        allow_null=True,
        help_text="The seat on the current flight; null for an infant on a lap. The change assigns one on "
        "the new flight in the same cabin: the same seat number where it is free.",
    )
    fare_family = serializers.CharField(
        allow_blank=True,
        help_text="The fare family the seat was sold in, kept on the new flight (empty: none).",
    )
    old_price = serializers.CharField(help_text="What this passenger's fare cost, decimal string.")
    new_price = serializers.CharField(
        help_text="The same family's fare on the new flight (a child's or infant's share), decimal string."
    )
    difference = serializers.CharField(help_text="new_price less old_price, signed decimal string.")
    fee = serializers.CharField(help_text="The family's change fee for this passenger; 0.00 for an infant.")
    refundable = serializers.BooleanField(
        help_text="Whether a cheaper new fare's difference is refunded (the fare refunds); false: it is kept."
    )


class ChangeQuoteOutput(serializers.Serializer):
    reference = serializers.CharField()
    segment = serializers.IntegerField(help_text="The flight of the journey that changes (1-based).")
    currency = serializers.CharField()
    from_flight = FlightOutput(help_text="The flight the passengers fly now.")
    to_flight = FlightOutput(help_text="The flight they would fly.")
    lines = ChangeLineOutput(many=True)
    old_fares = serializers.CharField(help_text="The lines' old prices, summed, decimal string.")
    new_fares = serializers.CharField(help_text="The lines' new prices, summed, decimal string.")
    fare_difference = serializers.CharField(help_text="new_fares less old_fares, signed decimal string.")
    change_fee = serializers.CharField(help_text="The lines' fees, summed, decimal string.")
    residual_kept = serializers.CharField(
        help_text="What a cheaper non-refundable fare costs less, not refunded, decimal string."
    )
    amount_due = serializers.CharField(
        help_text="What the change charges: the difference and the fees (less a refundable difference), "
        "decimal string; 0.00 when it costs nothing or refunds."
    )
    refund_due = serializers.CharField(
        help_text="What the change refunds: a refundable difference less the fees, never more than was "
        "paid, decimal string; 0.00 when it charges."
    )
    quote = serializers.CharField(
        help_text="Send it to POST …/change: the change is refused (409 quote_changed) if it would cost "
        "or refund another amount, or after `expires_at`."
    )
    expires_at = serializers.DateTimeField()


def change_quote_body(quote: FlightChangeQuote) -> dict[str, Any]:
    """ChangeQuoteOutput's JSON (both flights with their airplane and airports' cities loaded)."""
    return {
        "reference": quote.reference,
        "segment": quote.segment,
        "currency": quote.currency,
        "from_flight": flight_body(quote.from_flight),
        "to_flight": flight_body(quote.to_flight),
        "lines": [
            {
                "passenger": line.passenger,
                "type": line.passenger_type,
                "seat": line.seat_code or None,
                "fare_family": line.fare_family,
                "old_price": money_text(line.old_price),
                "new_price": money_text(line.new_price),
                "difference": money_text(line.difference),
                "fee": money_text(line.fee),
                "refundable": line.refundable,
            }
            for line in quote.lines
        ],
        **_quote_amounts(quote),
        "quote": quote.token,
        "expires_at": datetime_text(quote.expires_at),
    }


def _quote_amounts(quote: FlightChangeQuote) -> dict[str, str]:
    return {
        "old_fares": money_text(quote.old_fares),
        "new_fares": money_text(quote.new_fares),
        "fare_difference": money_text(quote.fare_difference),
        "change_fee": money_text(quote.change_fee),
        "residual_kept": money_text(quote.residual_kept),
        "amount_due": money_text(quote.amount_due),
        "refund_due": money_text(quote.refund_due),
    }


class ChangeUnavailableOutput(serializers.Serializer):
    code = serializers.CharField(
        help_text="The problem code a change to this flight is refused with, e.g. sold_out."
    )
    detail = serializers.CharField()


class ChangeOptionOutput(serializers.Serializer):
    flight = FlightOutput()
    available = serializers.BooleanField(help_text="Whether the segment can change to this flight now.")
    old_fares = serializers.CharField(allow_null=True, help_text="As the quote says; null when unavailable.")
    new_fares = serializers.CharField(allow_null=True, help_text="As the quote says; null when unavailable.")
    fare_difference = serializers.CharField(allow_null=True, help_text="As the quote; null when unavailable.")
    change_fee = serializers.CharField(allow_null=True, help_text="As the quote says; null when unavailable.")
    residual_kept = serializers.CharField(allow_null=True, help_text="As the quote; null when unavailable.")
    amount_due = serializers.CharField(allow_null=True, help_text="As the quote says; null when unavailable.")
    refund_due = serializers.CharField(allow_null=True, help_text="As the quote says; null when unavailable.")
    quote = serializers.CharField(
        allow_null=True, help_text="The quote token to change with (GET …/change-quote says the rest)."
    )
    unavailable = ChangeUnavailableOutput(allow_null=True, help_text="Why not, when unavailable; else null.")


class ChangeOptionsOutput(serializers.Serializer):
    reference = serializers.CharField()
    segment = serializers.IntegerField()
    currency = serializers.CharField()
    date = serializers.DateField(help_text="The day listed, local at the segment's departure airport.")
    from_flight = FlightOutput(help_text="The flight the passengers fly now.")
    options = ChangeOptionOutput(many=True, help_text="By departure.")


def change_options_body(
    booking: Booking, segment: int, day: date, from_flight: Flight, options: Sequence[ChangeOption]
) -> dict[str, Any]:
    """ChangeOptionsOutput's JSON."""
    empty = dict.fromkeys(
        (
            "old_fares",
            "new_fares",
            "fare_difference",
            "change_fee",
            "residual_kept",
            "amount_due",
            "refund_due",
        )
    )
    return {
        "reference": booking.reference,
        "segment": segment,
        "currency": booking.currency,
        "date": day.isoformat(),
        "from_flight": flight_body(from_flight),
        "options": [
            {
                "flight": flight_body(option.flight),
                "available": option.quote is not None,
                **(_quote_amounts(option.quote) if option.quote is not None else empty),
                "quote": option.quote.token if option.quote is not None else None,
                "unavailable": (
                    {"code": option.refusal.code, "detail": option.refusal.detail}
                    if option.refusal is not None
                    else None
                ),
            }
            for option in options
        ],
    }
