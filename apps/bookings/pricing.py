"""A booking's prices: what each type of passenger pays (docs/PASSENGERS.md, "Fares"), and the price as
the traveller reads it — base fares, each tax or fee, total (docs/FARES.md).

Every seat stores its price's parts as the hold split them (`SeatAssignment.base_fare`, `taxes`;
apps/flights/fares.py), so the breakdown only adds stored amounts; nothing is recomputed from today's
settings. A seat held before the parts were stored counts its whole fare as base fare; an infant's fare
(it has no seat: `InfantFare`) is base fare.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings

from apps.bookings.models import InfantFare, Passenger, SeatAssignment
from apps.flights.fares import fare_share

ZERO = Decimal("0.00")


def passenger_fare(
    adult_fare: Decimal, passenger_type: str, family: Any = None, *, currency: str = ""
) -> Decimal:
    """The fare a passenger of `passenger_type` (adult / child / infant) pays where an adult pays
    `adult_fare`: a child `child_percent` of it, an infant `infant_percent`, of the fare family sold
    (`family`, a FareFamily), else CHILD_FARE_PERCENT / INFANT_FARE_PERCENT; rounded once (half up) to
    the currency's minor unit."""
    if passenger_type == Passenger.Type.ADULT:
        return adult_fare
    if passenger_type == Passenger.Type.CHILD:
        percent = family.child_percent if family is not None else settings.CHILD_FARE_PERCENT
    else:
        percent = family.infant_percent if family is not None else settings.INFANT_FARE_PERCENT
    return fare_share(adult_fare, percent, currency=currency)


@dataclass(frozen=True)
class TaxLine:
    code: str
    name: str
    amount: Decimal


@dataclass(frozen=True)
class PriceBreakdown:
    base_fare: Decimal  # the seats' base fares and the infants' fares, summed
    taxes: list[TaxLine]  # each tax or fee summed by name, in the order first met
    total: Decimal  # base_fare + taxes: the seats' and infants' fares, summed


def seat_taxes(seat_assignment: SeatAssignment) -> Decimal:
    """The taxes and fees inside one seat's fare (0 for a seat held before they were stored).

    For refunds: what a non-refundable fare still gives back (docs/FARES.md, "Refund rules").
    """
    return sum((Decimal(tax["amount"]) for tax in seat_assignment.taxes or []), ZERO)


def price_breakdown(
    seat_assignments: Iterable[SeatAssignment], infant_fares: Iterable[InfantFare] = ()
) -> PriceBreakdown:
    """The breakdown of these seats' prices and infants' fares (a booking's: all its seat assignments,
    released ones too, and all its infant fares, as `Booking.total_amount` counts them)."""
    base = ZERO + sum((infant.fare for infant in infant_fares), ZERO)
    taxes: dict[str, TaxLine] = {}
    for seat in seat_assignments:
        base += seat.base_fare if seat.base_fare is not None else seat.fare
        for tax in seat.taxes or []:
            known = taxes.get(tax["name"])
            amount = Decimal(tax["amount"]) + (known.amount if known else ZERO)
            taxes[tax["name"]] = TaxLine(code=tax["code"], name=tax["name"], amount=amount)
    lines = list(taxes.values())
    return PriceBreakdown(base_fare=base, taxes=lines, total=base + sum((t.amount for t in lines), ZERO))
