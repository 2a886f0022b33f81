from decimal import Decimal

import pytest

from apps.payments.gateway import GatewayTimeout, SimulatedGateway, get_gateway
from apps.payments.models import GatewayCharge, GatewayRefund

pytestmark = pytest.mark.django_db


def charge(gateway, token, key="pay_1"):
    return gateway.charge(idempotency_key=key, amount=Decimal("4500.00"), currency="INR", token=token)


@pytest.mark.parametrize(
    ("token", "status", "reason"),
    [
        ("tok_visa", "succeeded", ""),
        ("tok_chargeDeclined", "declined", "Your card was declined."),
        ("tok_insufficientFunds", "declined", "Your card has insufficient funds."),
        ("tok_stolen", "declined", "Unknown payment method: the card token is not valid."),
    ],
)
def test_token_decides_the_outcome_and_the_charge_is_logged(token, status, reason):
    result = charge(SimulatedGateway(), token)

    assert (result.status, result.reason) == (status, reason)
    logged = GatewayCharge.objects.get()
    assert (logged.idempotency_key, logged.reference, logged.status) == ("pay_1", result.reference, status)
    assert logged.amount == Decimal("4500.00")


def test_same_key_returns_the_first_charge_and_charges_once():
    gateway = SimulatedGateway()
    first = charge(gateway, "tok_visa")

    again = charge(gateway, "tok_visa")

    assert again == first
    assert GatewayCharge.objects.count() == 1


def test_timeout_token_charges_then_times_out_and_the_retry_finds_the_charge():
    gateway = SimulatedGateway()

    with pytest.raises(GatewayTimeout):
        charge(gateway, "tok_timeout")
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.SUCCEEDED

    retried = charge(gateway, "tok_timeout")
    looked_up = gateway.retrieve("pay_1")

    assert retried.succeeded
    assert looked_up == retried
    assert GatewayCharge.objects.count() == 1


def test_retrieve_without_a_charge_is_none():
    assert SimulatedGateway().retrieve("pay_unknown") is None


def test_refund_is_idempotent():
    gateway = SimulatedGateway()
    result = charge(gateway, "tok_visa")

    first = gateway.refund(idempotency_key="refund_1", charge_reference=result.reference)
    second = gateway.refund(idempotency_key="refund_1", charge_reference=result.reference)

    assert first == second
    logged = GatewayCharge.objects.get()
    assert logged.status == GatewayCharge.Status.REFUNDED
    assert logged.refunded_at is not None


def test_gateway_is_chosen_by_setting(settings):
    settings.PAYMENT_GATEWAY = "apps.payments.gateway.SimulatedGateway"

    assert isinstance(get_gateway(), SimulatedGateway)


def test_a_charge_is_refunded_in_parts_each_key_once_and_never_above_it():
    gateway = SimulatedGateway()
    result = charge(gateway, "tok_visa")

    first = gateway.refund(
        idempotency_key="change_1_1", charge_reference=result.reference, amount=Decimal("500.00")
    )
    again = gateway.refund(
        idempotency_key="change_1_1", charge_reference=result.reference, amount=Decimal("500.00")
    )
    rest = gateway.refund(idempotency_key="refund_1", charge_reference=result.reference)

    assert again == first
    assert first != rest
    logged = GatewayCharge.objects.get()
    assert (logged.status, logged.refunded_amount) == (GatewayCharge.Status.REFUNDED, Decimal("4500.00"))
    assert sorted(GatewayRefund.objects.values_list("idempotency_key", "amount")) == [
        ("change_1_1", Decimal("500.00")),
        ("refund_1", Decimal("4000.00")),
    ]
    with pytest.raises(ValueError, match="4500.00 refunded already"):
        gateway.refund(
            idempotency_key="change_2_1", charge_reference=result.reference, amount=Decimal("0.01")
        )
