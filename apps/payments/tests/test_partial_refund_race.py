"""Two cancels of one booking at once, under a fare that refunds part of the payment: one refund of the
quoted amount (apps/payments/tests/racing.py: how a race is made deterministic)."""

import threading
from collections import Counter
from decimal import Decimal

import pytest

from apps.bookings import refund_rules
from apps.bookings.models import Booking
from apps.bookings.refund_rules import RefundRule
from apps.bookings.services import booking_cancel
from apps.bookings.services.quotes import booking_cancellation_quote
from apps.core.exceptions import ApplicationError
from apps.notifications.models import Notification
from apps.payments.models import GatewayCharge, Payment, Refund
from apps.payments.tests.factories import booking_paid, held_booking
from apps.payments.tests.racing import WAIT_SECONDS, HookedGateway, outbox, threads

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def gateway(settings):
    settings.PAYMENT_GATEWAY = "apps.payments.tests.racing.HookedGateway"
    HookedGateway.hooks = {}
    HookedGateway.calls = []
    yield HookedGateway
    HookedGateway.hooks = {}


def test_two_cancels_of_a_partially_refunded_booking_refund_the_quoted_amount_once(
    gateway, customer, monkeypatch
):
    # given a paid booking of two seats whose fare refunds the price minus 1,000 a seat, and its quote
    monkeypatch.setattr(refund_rules, "refund_rule_for", lambda seat: RefundRule("fee", Decimal("1000")))
    booking = booking_paid(held_booking(owner=customer, passengers=2))
    quote = booking_cancellation_quote(booking=booking, actor=customer)
    assert quote.amount == Decimal("7000.00")
    payment_id = Payment.objects.get().pk

    # and the owner's two cancels (two tabs) both reaching the gateway's refund before either recorded it
    both_at_gateway = threading.Barrier(2)
    gateway.hooks = {"before_refund": lambda: both_at_gateway.wait(timeout=WAIT_SECONDS)}

    def cancel():
        try:
            return booking_cancel(
                booking=Booking.objects.get(pk=booking.pk), actor=customer, expected_refund=quote.amount
            ).status
        except ApplicationError as error:
            return error.code

    with threads(2) as start:
        futures = [start(cancel), start(cancel)]
        outcomes = sorted(future.result(timeout=WAIT_SECONDS) for future in futures)

    # then one cancelled the booking, the other found it cancelled
    assert outcomes == ["booking_not_cancellable", Booking.Status.CANCELLED]
    # and the gateway was asked twice with the one key, refunding the quoted amount once
    assert [call for call in gateway.calls if call[0] == "refund"] == [("refund", f"refund_{payment_id}")] * 2
    charge = GatewayCharge.objects.get()
    assert (charge.status, charge.refunded_amount) == (GatewayCharge.Status.REFUNDED, Decimal("7000.00"))
    assert list(Refund.objects.values_list("payment_id", "amount")) == [(payment_id, Decimal("7000.00"))]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.seat_assignments.filter(active=True).count() == 0
    assert outbox(booking.pk)[Notification.Kind.BOOKING_CANCELLED] == 1
    email = Notification.objects.get(booking=booking, kind=Notification.Kind.BOOKING_CANCELLED)
    assert "A refund of INR 7,000 has been issued" in " ".join(email.body_text.split())
    assert Counter(Payment.objects.values_list("status", flat=True)) == Counter({Payment.Status.REFUNDED: 1})
