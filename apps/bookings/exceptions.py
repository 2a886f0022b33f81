"""Typed errors of the booking engine; their `code`s are part of the API contract."""

from apps.core.exceptions import ApplicationError, Conflict, NotFound, ServiceUnavailable, UnprocessableEntity


class FlightNotBookable(Conflict):
    """The flight is cancelled, has departed or leaves too soon to be booked."""

    code = "flight_not_bookable"
    title = "The flight can no longer be booked"


class FlightNotCancellable(Conflict):
    code = "flight_not_cancellable"
    title = "The flight can no longer be cancelled"


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
    code = "payment_in_progress"
    title = "A payment for this booking is in progress"
    retry_after = 5


class RefundUnavailable(Conflict):
    code = "refund_unavailable"
    title = "Confirmed bookings cannot be refunded right now"


class RefundFailed(ServiceUnavailable):
    code = "refund_failed"
    title = "The refund did not go through; the booking is unchanged"


class StaffOnly(ApplicationError):
    code = "permission_denied"
    http_status = 403
    title = "Only airline staff may do this"
