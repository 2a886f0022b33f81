"""What a traveller's own cancellation gives back, per seat: the refund rule of the seat's fare and the
seat's taxes (docs/ARCHITECTURE.md, "Request path of a cancellation with a partial refund").

These two functions are the one place the cancellation quote asks (apps/bookings/services/quotes.py);
until fare families exist they answer the safe default: every seat refunded in full, no taxes. The fare
families' rules and the per-seat price breakdown replace the bodies here, nowhere else.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from apps.bookings.models import SeatAssignment

RefundKind = Literal["full", "fee", "none"]


@dataclass(frozen=True)
class RefundRule:
    """`full`: the seat's price back; `fee`: the price minus `fee` (never below zero); `none`: only the
    seat's taxes and fees (`seat_taxes`)."""

    kind: RefundKind
    fee: Decimal = Decimal("0")


FULL_REFUND = RefundRule(kind="full", fee=Decimal("0"))


def refund_rule_for(seat: SeatAssignment) -> RefundRule:
    """The refund rule of the fare `seat` was sold at (default: full)."""
    return FULL_REFUND


def seat_taxes(seat: SeatAssignment) -> Decimal:
    """The taxes and fees included in `seat`'s price, refunded under every rule (default: none)."""
    return Decimal("0")
