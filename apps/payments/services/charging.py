"""Asking the gateway for a payment's charge: a booking's payment (./paying.py) and a flight change's
(./changes.py) are charged the same way, at most once per payment."""

import logging

from apps.accounts.models import User
from apps.bookings.models import Booking
from apps.core.audit import Action
from apps.payments.audit import payment_audit
from apps.payments.exceptions import PaymentGatewayTimeout
from apps.payments.gateway import ChargeResult, GatewayTimeout, get_gateway
from apps.payments.models import Payment

logger = logging.getLogger(__name__)


def payment_charge_at_gateway(payment: Payment, *, resume: bool) -> ChargeResult:
    """Charge `payment` at the gateway with its own gateway key, with no transaction open; `resume`
    (a retry of a payment left processing): first ask the gateway for the charge made with that key,
    and charge only if it has none. So a payment is charged at most once, however often it is asked.

    Raises PaymentGatewayTimeout (504) when the gateway does not answer: the payment stays processing
    until a retry with the same client key or the reconciler settles it.
    """
    gateway = get_gateway()
    try:
        result = gateway.retrieve(payment.gateway_idempotency_key) if resume else None
        if result is None:
            result = gateway.charge(
                idempotency_key=payment.gateway_idempotency_key,
                amount=payment.amount,
                currency=payment.currency,
                token=payment.payment_method,
            )
    except GatewayTimeout:
        logger.warning("Gateway timeout for %s payment %s; it stays processing", payment.kind, payment.pk)
        raise PaymentGatewayTimeout(
            "The payment gateway did not answer. Retry with the same Idempotency-Key: you will not be "
            "charged twice."
        ) from None
    return result


def payment_charged_after_failing(payment: Payment, result: ChargeResult) -> bool:
    """Whether `result`, the gateway's answer for a payment settled already (a retry and the reconciler
    may race), is money taken for a payment that failed (given up, or its booking or change gone): then
    it must be given back. Its gateway reference is recorded for that refund."""
    if not (result.succeeded and payment.status == Payment.Status.FAILED):
        return False
    if not payment.gateway_reference:
        payment.gateway_reference = result.reference
        payment.save(update_fields=["gateway_reference", "updated_at"])
    return True


def payment_declined_record(
    payment: Payment, result: ChargeResult, *, booking: Booking, actor: User | None
) -> None:
    """Record the gateway's decline of the processing `payment` (its reference and time set by the
    caller, under the payment's lock) and audit it."""
    payment.status = Payment.Status.DECLINED
    payment.decline_reason = result.reason[:255]
    payment.save(
        update_fields=["status", "gateway_reference", "processed_at", "decline_reason", "updated_at"]
    )
    payment_audit(Action.PAYMENT_DECLINED, payment, booking, actor, reason=payment.decline_reason)
