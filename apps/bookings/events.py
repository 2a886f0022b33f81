"""What happens to bookings, announced to other apps (apps/core/events.py explains events).

Each event is published inside the transaction of the change, after the booking's new state is
set on the instance it carries.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from apps.bookings.models import Booking, Passenger
from apps.core.events import Event
from apps.flights.models import Flight


@dataclass(frozen=True, slots=True)
class PaymentReceipt:
    """What the traveller's receipt shows of the payment that confirmed a booking."""

    amount: Decimal
    currency: str
    gateway_reference: str
    payment_method: str  # the gateway token, e.g. "tok_visa": never more than the card brand is shown
    paid_at: datetime


@dataclass(frozen=True, slots=True)
class BookingHeld:
    """Seats were taken and the booking is HELD until `booking.hold_expires_at`."""

    booking: Booking


@dataclass(frozen=True, slots=True)
class BookingConfirmed:
    """The booking was paid in full (`receipt`) and is CONFIRMED."""

    booking: Booking
    receipt: PaymentReceipt


@dataclass(frozen=True, slots=True)
class BookingCancelled:
    """The booking is CANCELLED and its seats released.

    `refunded`: a payment was (or is being) refunded, by `refund_amount` (None: in full; it may be
    partial, or 0, under the fare's refund rules). `by_airline`: its flight was cancelled.
    """

    booking: Booking
    refunded: bool
    by_airline: bool
    refund_amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class BookingExpired:
    """The hold ran out unpaid: the booking is EXPIRED and its seats released."""

    booking: Booking


@dataclass(frozen=True, slots=True)
class BookingCheckedIn:
    """`passengers` of the CONFIRMED `booking` were checked in now for the flight of its segment
    `segment` (each seat assignment of that segment with its check-in number)."""

    booking: Booking
    passengers: list[Passenger]
    segment: int = 1


@dataclass(frozen=True, slots=True)
class SeatMove:
    """One passenger's seat before and after a segment move (the cabin does not change)."""

    passenger: Passenger
    from_seat: str
    to_seat: str
    cabin: str


@dataclass(frozen=True, slots=True)
class BookingSegmentMoved:
    """Segment `segment` of `booking` now flies `to_flight` instead of `from_flight`, each passenger in
    the seat `seats` names; any check-in for the old flight is void (`check_in_voided` passengers had
    checked in). `by_airline`: the airline moved it (rebooking off a cancelled flight, at no charge).
    `reason`: why, in words for the traveller; `flight_cancelled`: the old flight is (being) cancelled.
    A traveller's own change says what it cost (docs/FARES.md, "Changing a flight"): the new fares less
    the old (`fare_difference`), the `change_fee`, what was charged or is refunded, and what of a
    cheaper fare was kept under the fare's rules (`residual_kept`); all 0 for the airline's moves."""

    booking: Booking
    segment: int
    from_flight: Flight
    to_flight: Flight
    seats: list[SeatMove]
    by_airline: bool
    check_in_voided: int = 0
    reason: str = ""
    flight_cancelled: bool = False
    fare_difference: Decimal = Decimal("0")
    change_fee: Decimal = Decimal("0")
    residual_kept: Decimal = Decimal("0")
    amount_charged: Decimal = Decimal("0")
    amount_refunded: Decimal = Decimal("0")


booking_held = Event("booking.held", BookingHeld)
booking_confirmed = Event("booking.confirmed", BookingConfirmed)
booking_cancelled = Event("booking.cancelled", BookingCancelled)
booking_expired = Event("booking.expired", BookingExpired)
booking_checked_in = Event("booking.checked_in", BookingCheckedIn)
booking_segment_moved = Event("booking.segment_moved", BookingSegmentMoved)
