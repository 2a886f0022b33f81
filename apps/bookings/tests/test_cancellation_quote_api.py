"""The cancellation quote and the conditional cancel through the API (docs/API.md, "Holds, payments,
cancellation"), with real payments; the fare rule is set by replacing our own default in
apps/bookings/refund_rules.py (the fare families' stand-in)."""

import uuid
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from apps.bookings import refund_rules
from apps.bookings.models import Booking
from apps.bookings.refund_rules import RefundRule
from apps.bookings.services.quotes import QUOTE_VALID_FOR, booking_cancellation_quote
from apps.notifications.models import Notification
from apps.payments.models import GatewayCharge, Refund
from apps.payments.tests.factories import booking_paid, held_booking

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(customer) -> Booking:
    return booking_paid(held_booking(owner=customer, passengers=2))


def quote_of(client, booking: Booking):
    return client.get(f"/api/v1/bookings/{booking.reference}/cancellation-quote")


def cancel(client, booking: Booking, body=None):
    return client.post(
        f"/api/v1/bookings/{booking.reference}/cancel",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )


def assert_untouched(booking: Booking) -> None:
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.seat_assignments.filter(active=True).count() == 2
    assert not Refund.objects.exists()
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.SUCCEEDED
    assert not Notification.objects.filter(booking=booking, kind=Notification.Kind.BOOKING_CANCELLED).exists()


def test_the_quote_lists_each_seat_and_the_cancel_with_its_token_refunds_that_amount(
    customer_client, paid, monkeypatch
):
    monkeypatch.setattr(refund_rules, "refund_rule_for", lambda seat: RefundRule("fee", Decimal("1500")))

    response = quote_of(customer_client, paid)

    assert response.status_code == 200
    body = response.json()
    seats = list(paid.seat_assignments.order_by("passenger__position").values_list("seat_code", flat=True))
    assert {key: body[key] for key in ("reference", "amount", "currency", "refundable", "rules_apply")} == {
        "reference": paid.reference,
        "amount": "6000.00",
        "currency": "INR",
        "refundable": "9000.00",
        "rules_apply": True,
    }
    assert [
        (line["seat"], line["rule"], line["fee"], line["price"], line["amount"]) for line in body["lines"]
    ] == [(seat, "fee", "1500.00", "4500.00", "3000.00") for seat in seats]
    assert body["expires_at"].endswith("Z")
    assert body["quote"]

    cancelled = cancel(customer_client, paid, {"quote": body["quote"]})

    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("6000.00")]
    assert GatewayCharge.objects.get().refunded_amount == Decimal("6000.00")
    payment = customer_client.get(f"/api/v1/payments/{Refund.objects.get().payment_id}").json()
    assert (payment["status"], payment["amount"], payment["refunded_amount"]) == (
        "refunded",
        "9000.00",
        "6000.00",
    )


def test_a_cancel_whose_refund_changed_since_the_quote_is_a_409_and_changes_nothing(
    customer_client, paid, monkeypatch
):
    token = quote_of(customer_client, paid).json()["quote"]
    monkeypatch.setattr(refund_rules, "refund_rule_for", lambda seat: RefundRule("none"))

    by_token = cancel(customer_client, paid, {"quote": token})
    by_amount = cancel(customer_client, paid, {"expected_refund": "9000.00"})

    for response in (by_token, by_amount):
        assert (response.status_code, response.json()["code"]) == (409, "quote_changed")
        assert response["Content-Type"] == "application/problem+json"
    assert_untouched(paid)


def test_an_expired_quote_is_a_409(customer, customer_client, paid):
    # given a quote signed longer ago than it is valid (the clock, the outside world, set back to sign it)
    quote = booking_cancellation_quote(booking=paid, actor=customer)
    long_ago = timezone.now() - QUOTE_VALID_FOR - timedelta(seconds=5)
    with mock.patch("django.core.signing.time.time", return_value=long_ago.timestamp()):
        token = quote.token

    response = cancel(customer_client, paid, {"quote": token})

    assert (response.status_code, response.json()["code"]) == (409, "quote_changed")
    assert_untouched(paid)


def test_a_quote_of_another_booking_or_a_forged_one_is_a_400_with_the_field(customer, customer_client, paid):
    other = booking_paid(held_booking(owner=customer, passengers=1))
    other_token = quote_of(customer_client, other).json()["quote"]

    for body in ({"quote": other_token}, {"quote": "not-a-quote"}, {"expected_refund": "-1"}):
        response = cancel(customer_client, paid, body)
        assert response.status_code == 400, body
        assert set(response.json()["errors"]) == {next(iter(body))}
    own = quote_of(customer_client, paid).json()["quote"]
    mismatch = cancel(customer_client, paid, {"quote": own, "expected_refund": "1.00"})
    assert (mismatch.status_code, mismatch.json()["code"]) == (400, "quote_invalid")
    assert set(mismatch.json()["errors"]) == {"expected_refund"}
    paid.refresh_from_db()
    assert paid.status == Booking.Status.CONFIRMED
    assert not Refund.objects.exists()


def test_a_held_booking_quotes_zero_and_someone_else_gets_a_404(
    customer_client, other_customer_client, customer
):
    booking = held_booking(owner=customer)

    own = quote_of(customer_client, booking)
    others = quote_of(other_customer_client, booking)

    assert (own.status_code, own.json()["amount"], own.json()["refundable"]) == (200, "0.00", "0.00")
    assert (others.status_code, others.json()["code"]) == (404, "booking_not_found")


def test_staff_get_a_full_refund_quote_whatever_the_rule(staff_client, paid, monkeypatch):
    monkeypatch.setattr(refund_rules, "refund_rule_for", lambda seat: RefundRule("none"))

    body = quote_of(staff_client, paid).json()

    assert (body["amount"], body["rules_apply"]) == ("9000.00", False)
    assert {line["rule"] for line in body["lines"]} == {"full"}
