"""What a traveller's own cancellation gives back, per seat: the refund rule of the seat's fare and the
seat's taxes (docs/ARCHITECTURE.md, "Request path of a cancellation with a partial refund").

These two functions are the one place the cancellation quote asks (apps/bookings/services/quotes.py).
The rule is the fare family's the seat was sold in (`SeatAssignment.fare_family`, docs/FARES.md, "Refund
rules"), as the family's rules read now; a seat sold without a family (a flight priced by cabin only)
is refunded in full. The taxes are those the seat stored when it was held (apps/bookings/pricing.py).
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from apps.bookings import pricing
from apps.bookings.models import SeatAssignment
from apps.flights.fares import fare_family_catalogue_cached

RefundKind = Literal["full", "fee", "none"]


@dataclass(frozen=True)
class RefundRule:
    """`full`: the seat's price back; `fee`: the price minus `fee` (never below zero); `none`: only the
    seat's taxes and fees (`seat_taxes`)."""

    kind: RefundKind
    fee: Decimal = Decimal("0")


FULL_REFUND = RefundRule(kind="full", fee=Decimal("0"))


def refund_rule_for(seat: SeatAssignment) -> RefundRule:
    """The refund rule of the fare family `seat` was sold in (full where it has none)."""
    family = fare_family_catalogue_cached().get(seat.fare_family) if seat.fare_family else None
    if family is None:
        return FULL_REFUND
    return RefundRule(kind=family.refund_rule, fee=family.refund_fee)


def seat_taxes(seat: SeatAssignment) -> Decimal:
    """The taxes and fees included in `seat`'s price, refunded under every rule."""
    return pricing.seat_taxes(seat)
