"""Typed errors of payments; their `code`s are part of the API contract (docs/API.md).

A booking that cannot be paid is refused by the bookings app's own errors (payment_in_progress,
booking_expired, flight_not_bookable: apps/bookings/exceptions.py).
"""

from apps.core.exceptions import ApplicationError, Conflict, UnprocessableEntity


class AlreadyPaid(Conflict):
    code = "already_paid"
    title = "This booking is already paid"


class AmountMismatch(UnprocessableEntity):
    code = "amount_mismatch"
    title = "The amount or currency differs from the booking's total"


class PaymentDeclined(ApplicationError):
    code = "payment_declined"
    http_status = 402
    title = "The payment was declined"


class PaymentGatewayTimeout(ApplicationError):
    """The gateway did not answer: a 5xx, so the idempotency key is released and the retry resumes."""

    code = "gateway_timeout"
    http_status = 504
    title = "The payment gateway did not answer in time"
    retry_after = 2


class PaymentNotRefundable(Conflict):
    code = "payment_not_refundable"
    title = "Only a succeeded payment can be refunded"
