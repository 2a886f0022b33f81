"""The payment gateway adapter: an interface and the built-in simulated gateway.

Every call carries our idempotency key, so the gateway's own retries and ours are safe: a repeated
charge with the same key returns the first charge. The gateway is "the outside world": it is never
called inside one of our transactions or while we hold a row lock (docs/ARCHITECTURE.md).
A real provider is a second adapter class named by the PAYMENT_GATEWAY setting.
"""

import abc
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.payments.models import GatewayCharge, GatewayRefund


class GatewayTimeout(Exception):
    """The gateway did not answer in time: the charge may or may not exist (look it up by key)."""


@dataclass(frozen=True, slots=True)
class ChargeResult:
    status: str  # "succeeded" or "declined"
    reference: str
    reason: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True, slots=True)
class RefundResult:
    reference: str


class PaymentGateway(abc.ABC):
    @abc.abstractmethod
    def charge(self, *, idempotency_key: str, amount: Decimal, currency: str, token: str) -> ChargeResult:
        """Charge `token`; the same key again returns the first charge. May raise GatewayTimeout."""

    @abc.abstractmethod
    def retrieve(self, idempotency_key: str) -> ChargeResult | None:
        """The charge made with this key, or None if the gateway never made one."""

    @abc.abstractmethod
    def refund(
        self, *, idempotency_key: str, charge_reference: str, amount: Decimal | None = None
    ) -> RefundResult:
        """Refund `amount` of a succeeded charge (None: what is left of it). A charge may be refunded in
        several parts, each with its own key, never more than it; the same key again returns that
        refund. May raise GatewayTimeout."""


class SimulatedGateway(PaymentGateway):
    """Development and test gateway; its ledger is the GatewayCharge table ("the charge log").

    Tokens: tok_visa succeeds; tok_chargeDeclined and tok_insufficientFunds are declined;
    tok_timeout records a successful charge and then times out. Any other token is declined.
    Each write commits in its own durable transaction, as a remote system would.
    """

    OUTCOMES: dict[str, tuple[str, str]] = {
        "tok_visa": (GatewayCharge.Status.SUCCEEDED, ""),
        "tok_timeout": (GatewayCharge.Status.SUCCEEDED, ""),
        "tok_chargeDeclined": (GatewayCharge.Status.DECLINED, "Your card was declined."),
        "tok_insufficientFunds": (GatewayCharge.Status.DECLINED, "Your card has insufficient funds."),
    }
    UNKNOWN_TOKEN = (GatewayCharge.Status.DECLINED, "Unknown payment method: the card token is not valid.")

    def charge(self, *, idempotency_key: str, amount: Decimal, currency: str, token: str) -> ChargeResult:
        status, reason = self.OUTCOMES.get(token, self.UNKNOWN_TOKEN)
        try:
            with transaction.atomic(durable=True):
                charge = GatewayCharge.objects.create(
                    idempotency_key=idempotency_key,
                    reference=f"ch_{secrets.token_hex(12)}",
                    token=token[:64],
                    amount=amount,
                    currency=currency,
                    status=status,
                    decline_reason=reason,
                )
        except IntegrityError:
            # The same key again: the first charge is the answer (and no timeout this time).
            return _charge_result(GatewayCharge.objects.get(idempotency_key=idempotency_key))
        if token == "tok_timeout":
            raise GatewayTimeout(f"The gateway did not answer for charge {idempotency_key}.")
        return _charge_result(charge)

    def retrieve(self, idempotency_key: str) -> ChargeResult | None:
        charge = GatewayCharge.objects.filter(idempotency_key=idempotency_key).first()
        return _charge_result(charge) if charge else None

    def refund(
        self, *, idempotency_key: str, charge_reference: str, amount: Decimal | None = None
    ) -> RefundResult:
        with transaction.atomic(durable=True):
            charge = GatewayCharge.objects.select_for_update().get(reference=charge_reference)
            made = GatewayRefund.objects.filter(idempotency_key=idempotency_key).first()
            if made is not None:
                return RefundResult(reference=made.reference)
            if charge.status == GatewayCharge.Status.DECLINED:
                raise ValueError(f"Charge {charge_reference} was declined and cannot be refunded.")
            before = charge.refunded_amount or Decimal("0")
            refunded = charge.amount - before if amount is None else amount
            if not Decimal("0") < refunded <= charge.amount - before:
                raise ValueError(
                    f"Cannot refund {refunded} of charge {charge_reference} ({charge.amount}, "
                    f"{before} refunded already)."
                )
            # The first refund of a charge is named after it, as it always was; later ones are numbered.
            count = charge.refunds.count()
            reference = f"re_{charge.reference.removeprefix('ch_')}" + (f"_{count + 1}" if count else "")
            GatewayRefund.objects.create(
                idempotency_key=idempotency_key, charge=charge, reference=reference, amount=refunded
            )
            charge.status = GatewayCharge.Status.REFUNDED
            charge.refunded_amount = before + refunded
            charge.refunded_at = timezone.now()
            charge.save(update_fields=["status", "refunded_amount", "refunded_at"])
        return RefundResult(reference=reference)


def _charge_result(charge: GatewayCharge) -> ChargeResult:
    # A refunded charge was a successful charge: the payment it belongs to succeeded.
    status = "declined" if charge.status == GatewayCharge.Status.DECLINED else "succeeded"
    return ChargeResult(status=status, reference=charge.reference, reason=charge.decline_reason)


def get_gateway() -> PaymentGateway:
    """The adapter named by settings.PAYMENT_GATEWAY (a dotted class path)."""
    return import_string(settings.PAYMENT_GATEWAY)()
