"""Typed errors of the booking engine; their `code`s are part of the API contract (docs/API.md)."""

from apps.core.exceptions import Conflict, NotFound, ServiceUnavailable, UnprocessableEntity, ValidationFailed


class FlightNotBookable(Conflict):
    """The flight is no longer on sale (cancelled, departed or leaving too soon): no hold, no payment."""

    code = "flight_not_bookable"
    title = "The flight can no longer be booked"


class SoldOut(Conflict):
    code = "sold_out"
    title = "Not enough seats left on this flight"


class SeatUnavailable(Conflict):
    code = "seat_unavailable"
    title = "A requested seat is already taken"


class SeatUnknown(UnprocessableEntity):
    """A requested seat is not in this flight's airplane layout (or its cabin has no fare)."""

    code = "seat_unknown"
    title = "A requested seat does not exist on this flight"


class BookingNotFound(NotFound):
    code = "booking_not_found"
    title = "No such booking"


class BookingNotCancellable(Conflict):
    code = "booking_not_cancellable"
    title = "The booking is already cancelled or expired"


class PaymentInProgress(Conflict):
    """The booking is PAYING: it can be neither cancelled nor paid again until that payment ends."""

    code = "payment_in_progress"
    title = "A payment for this booking is in progress"
    retry_after = 5


class BookingNotPayable(Conflict):
    """The booking cannot be paid: its hold ran out, or it was cancelled or expired."""

    code = "booking_expired"
    title = "This booking can no longer be paid"


class BookingTransitionRefused(Conflict):
    """A status change the booking state machine does not allow (Booking.TRANSITIONS).

    Services check their business rules first and raise the errors above; this one answers a change
    that a concurrent request made impossible in the meantime.
    """

    code = "booking_state_conflict"
    title = "The booking changed meanwhile; reload it"


class RefundUnavailable(Conflict):
    code = "refund_unavailable"
    title = "Confirmed bookings cannot be refunded right now"


class RefundFailed(ServiceUnavailable):
    code = "refund_failed"
    title = "The refund did not go through; the booking is unchanged"


class QuoteChanged(Conflict):
    """The refund a cancel would make now, or what a flight change would cost, is not what the traveller
    was quoted (a rule, a price, a payment or a refund changed meanwhile, or the quote expired): nothing
    was refunded, charged, moved or released."""

    code = "quote_changed"
    title = "The amount differs from the quote"


class QuoteInvalid(ValidationFailed):
    """The `quote` given to a cancel or a flight change is not a quote token of this booking (and, for a
    change, of this flight and new flight)."""

    code = "quote_invalid"
    title = "Invalid quote"


class CheckInUnavailable(Conflict):
    """Online check-in is not open for this booking now: not paid, the flight not flying, or outside the
    window (opens CHECK_IN_OPENS_HOURS before departure, closes CHECK_IN_CLOSES_MINUTES before it)."""

    code = "check_in_unavailable"
    title = "Online check-in is not open for this booking"


class BookingNotMovable(Conflict):
    """A segment of this booking cannot move to another flight now: the booking is not held or
    confirmed (a payment running, cancelled, expired), or the segment's flight has left."""

    code = "booking_not_movable"
    title = "This booking's flight cannot be changed now"


class MoveRouteMismatch(ValidationFailed):
    """The new flight does not fly the segment's route (the same airports, or the same cities)."""

    code = "move_other_route"
    title = "The new flight does not fly this route"


class MoveConnectionBroken(Conflict):
    """On the new flight the journey would miss a connection (`journey_connection_problem`)."""

    code = "move_connection_broken"
    title = "The new flight does not connect with the rest of the journey"


class ChangeNotAllowed(Conflict):
    """The traveller's fare does not allow changing this flight to that one: its fare family forbids
    changes, or the new flight does not sell it (docs/FARES.md, "Changing a flight")."""

    code = "change_not_allowed"
    title = "This fare cannot be changed to that flight"
