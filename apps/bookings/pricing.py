"""A booking's price as the traveller reads it: base fares, each tax or fee, total (docs/FARES.md).

Every seat stores its price's parts as the hold split them (`SeatAssignment.base_fare`, `taxes`;
apps/flights/fares.py), so these functions only add stored amounts; nothing is recomputed from
today's settings. A seat held before the parts were stored counts its whole fare as base fare.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from apps.bookings.models import SeatAssignment

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class TaxLine:
    code: str
    name: str
    amount: Decimal


@dataclass(frozen=True)
class PriceBreakdown:
    base_fare: Decimal  # the seats' base fares, summed
    taxes: list[TaxLine]  # each tax or fee summed by name, in the order first met
    total: Decimal  # base_fare + taxes: the seats' fares, summed


def seat_taxes(seat_assignment: SeatAssignment) -> Decimal:
    """The taxes and fees inside one seat's fare (0 for a seat held before they were stored).

    For refunds: what a non-refundable fare still gives back (docs/FARES.md, "Refund rules").
    """
    return sum((Decimal(tax["amount"]) for tax in seat_assignment.taxes or []), ZERO)


def price_breakdown(seat_assignments: Iterable[SeatAssignment]) -> PriceBreakdown:
    """The breakdown of these seats' prices (a booking's: all its seat assignments, released ones
    too, as `Booking.total_amount` counts them)."""
    base = ZERO
    taxes: dict[str, TaxLine] = {}
    for seat in seat_assignments:
        base += seat.base_fare if seat.base_fare is not None else seat.fare
        for tax in seat.taxes or []:
            known = taxes.get(tax["name"])
            amount = Decimal(tax["amount"]) + (known.amount if known else ZERO)
            taxes[tax["name"]] = TaxLine(code=tax["code"], name=tax["name"], amount=amount)
    lines = list(taxes.values())
    return PriceBreakdown(base_fare=base, taxes=lines, total=base + sum((t.amount for t in lines), ZERO))
