"""Every money path of a cancellation under the fare's refund rules (apps/bookings/refund_rules.py), with
real payments through the simulated gateway: what the quote says, what is refunded, what the e-mail says.

The rules are set by replacing the default `refund_rule_for` / `seat_taxes` of apps/bookings/refund_rules.py
(our own stand-in for the fare families), never our services.
"""

from decimal import Decimal

import pytest

from apps.bookings import refund_rules
from apps.bookings.exceptions import QuoteChanged
from apps.bookings.models import Booking
from apps.bookings.refund_rules import RefundRule
from apps.bookings.services import booking_cancel, booking_cancel_after_refund, flight_bookings_cancel
from apps.bookings.services.quotes import booking_cancellation_quote
from apps.flights.models import Flight
from apps.flights.services import flight_cancel
from apps.notifications.models import Notification
from apps.payments.exceptions import PaymentNotRefundable
from apps.payments.gateway import GatewayTimeout, SimulatedGateway
from apps.payments.models import GatewayCharge, Payment, Refund
from apps.payments.services import payment_refund_for_booking
from apps.payments.tests.factories import booking_paid, held_booking

pytestmark = pytest.mark.django_db

FARE = Decimal("4500.00")  # FlightFactory's economy fare, each of the two seats


@pytest.fixture
def rule(monkeypatch):
    """Give every seat `RefundRule(kind, fee)` and `taxes` (in place of the fare families' rules)."""

    def set_rule(kind: str, fee: str = "0", taxes: str = "0") -> None:
        monkeypatch.setattr(refund_rules, "refund_rule_for", lambda seat: RefundRule(kind, Decimal(fee)))
        monkeypatch.setattr(refund_rules, "seat_taxes", lambda seat: Decimal(taxes))

    return set_rule


@pytest.fixture
def paid(customer) -> Booking:
    return booking_paid(held_booking(owner=customer, passengers=2))


def cancelled_email(booking: Booking) -> Notification:
    return Notification.objects.get(booking=booking, kind=Notification.Kind.BOOKING_CANCELLED)


def assert_refunded(booking: Booking, amount: str, *, gateway_asked: bool = True) -> None:
    """One Refund row of `amount`; the gateway's charge refunded by exactly that (untouched for 0)."""
    payment = Payment.objects.get(booking=booking)
    assert payment.status == Payment.Status.REFUNDED
    assert list(Refund.objects.values_list("payment_id", "amount")) == [(payment.pk, Decimal(amount))]
    charge = GatewayCharge.objects.get()
    if gateway_asked:
        assert (charge.status, charge.refunded_amount) == (GatewayCharge.Status.REFUNDED, Decimal(amount))
    else:
        assert (charge.status, charge.refunded_amount) == (GatewayCharge.Status.SUCCEEDED, None)


def test_the_default_rule_quotes_and_refunds_every_seat_in_full(customer, paid):
    quote = booking_cancellation_quote(booking=paid, actor=customer)

    assert [(line.rule, line.price, line.amount) for line in quote.lines] == [("full", FARE, FARE)] * 2
    assert (quote.amount, quote.refundable, quote.currency) == (2 * FARE, 2 * FARE, "INR")

    booking_cancel(booking=paid, actor=customer, expected_refund=quote.amount)

    assert_refunded(paid, "9000.00")
    assert "A refund of INR 9,000 has been issued" in cancelled_email(paid).body_text


def test_a_fee_rule_refunds_the_price_minus_the_fee_per_seat(customer, paid, rule):
    rule("fee", fee="1250.50")

    quote = booking_cancellation_quote(booking=paid, actor=customer)
    cancelled = booking_cancel(booking=paid, actor=customer, expected_refund=quote.amount)

    assert [line.amount for line in quote.lines] == [Decimal("3249.50")] * 2
    assert quote.amount == Decimal("6499.00")
    assert cancelled.status == Booking.Status.CANCELLED
    assert_refunded(paid, "6499.00")
    email = cancelled_email(paid)
    assert "A refund of INR 6,499 has been issued" in " ".join(email.body_text.split())
    assert "of the INR 9,000 paid" in " ".join(email.body_text.split())
    assert "INR 6,499</strong>" in email.body_html
    assert email.subject.endswith("cancelled, refund issued")
    flight = Flight.objects.get(pk=paid.flight_id)
    assert flight.available_seats == flight.total_seats  # the seats went back


def test_a_fee_larger_than_the_price_refunds_nothing_and_asks_the_gateway_nothing(customer, paid, rule):
    rule("fee", fee="5000", taxes="300")  # taxes do not count under a fee rule: the fee is all it takes

    quote = booking_cancellation_quote(booking=paid, actor=customer)
    booking_cancel(booking=paid, actor=customer, expected_refund=Decimal("0"))

    assert [line.amount for line in quote.lines] == [Decimal("0")] * 2
    assert quote.amount == Decimal("0")
    assert_refunded(paid, "0.00", gateway_asked=False)
    paid.refresh_from_db()
    assert paid.status == Booking.Status.CANCELLED
    email = cancelled_email(paid)
    assert "nothing is refunded" in email.body_text
    assert "A refund of" not in email.body_text
    assert not email.subject.endswith("refund issued")


def test_a_none_rule_refunds_the_taxes_only(customer, paid, rule):
    rule("none", taxes="612.25")

    quote = booking_cancellation_quote(booking=paid, actor=customer)
    booking_cancel(booking=paid, actor=customer, expected_refund=Decimal("1224.50"))

    assert [(line.rule, line.amount) for line in quote.lines] == [("none", Decimal("612.25"))] * 2
    assert_refunded(paid, "1224.50")
    assert "A refund of INR 1,224.50 has been issued" in " ".join(cancelled_email(paid).body_text.split())


def test_amounts_are_summed_then_rounded_once(customer, paid, rule):
    rule("fee", fee="0.005")  # 4499.995 a seat: rounded each, 9000.00 would come back; summed, 8999.99

    quote = booking_cancellation_quote(booking=paid, actor=customer)

    assert quote.amount == Decimal("8999.99")


def test_the_refund_is_capped_at_what_was_paid(customer, paid):
    Payment.objects.filter(booking=paid).update(amount=Decimal("7000.00"))  # charged less than the fares

    quote = booking_cancellation_quote(booking=paid, actor=customer)
    booking_cancel(booking=paid, actor=customer, expected_refund=quote.amount)

    assert (quote.amount, quote.refundable) == (Decimal("7000.00"), Decimal("7000.00"))
    assert Refund.objects.get().amount == Decimal("7000.00")


def test_a_held_booking_quotes_nothing_to_refund(customer):
    booking = held_booking(owner=customer, passengers=2)

    quote = booking_cancellation_quote(booking=booking, actor=customer)

    assert (quote.amount, quote.refundable, len(quote.lines)) == (Decimal("0"), Decimal("0"), 2)
    booking_cancel(booking=booking, actor=customer, expected_refund=Decimal("0"))
    assert not Refund.objects.exists()


def test_staff_cancelling_someone_elses_booking_refund_in_full_whatever_the_rule(
    customer, staff_user, paid, rule
):
    rule("none", taxes="100")

    staff_quote = booking_cancellation_quote(booking=paid, actor=staff_user)
    booking_cancel(booking=paid, actor=staff_user)

    assert (staff_quote.rules_apply, staff_quote.amount) == (False, 2 * FARE)
    assert {line.rule for line in staff_quote.lines} == {"full"}
    assert_refunded(paid, "9000.00")


def test_the_airline_cancelling_the_flight_refunds_in_full_whatever_the_rule(
    customer, staff_user, paid, rule, django_capture_on_commit_callbacks
):
    rule("none", taxes="100")

    with django_capture_on_commit_callbacks(execute=True):
        flight_cancel(flight_id=paid.flight_id, actor=staff_user, reason="Weather")

    assert Flight.objects.get(pk=paid.flight_id).status == Flight.Status.CANCELLED
    assert flight_bookings_cancel(flight_id=paid.flight_id, actor=None) == 0  # done already
    assert_refunded(paid, "9000.00")
    email = Notification.objects.get(booking=paid, kind=Notification.Kind.FLIGHT_CANCELLED)
    assert "A full refund of INR 9,000 has been issued" in " ".join(email.body_text.split())


def test_a_changed_quote_is_refused_and_nothing_is_refunded_or_released(customer, paid, rule):
    quoted = booking_cancellation_quote(booking=paid, actor=customer).amount
    rule("none")  # the rule changed after the traveller was shown the quote

    with pytest.raises(QuoteChanged):
        booking_cancel(booking=paid, actor=customer, expected_refund=quoted)

    paid.refresh_from_db()
    assert paid.status == Booking.Status.CONFIRMED
    assert paid.seat_assignments.filter(active=True).count() == 2
    assert not Refund.objects.exists()
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.SUCCEEDED
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    assert not Notification.objects.filter(booking=paid, kind=Notification.Kind.BOOKING_CANCELLED).exists()


class PartialRefundAnswerLostOnceGateway(SimulatedGateway):
    """Refunds go through at the gateway; the first answer is lost (a timeout). Records every call."""

    calls: list[tuple[str, Decimal]] = []

    def refund(self, **kwargs):
        type(self).calls.append((kwargs["idempotency_key"], kwargs["amount"]))
        result = super().refund(**kwargs)
        if len(type(self).calls) == 1:
            raise GatewayTimeout("refund answer lost")
        return result


def test_a_partial_refund_retried_refunds_once(settings, paid):
    settings.PAYMENT_GATEWAY = "apps.payments.tests.test_partial_refunds.PartialRefundAnswerLostOnceGateway"
    PartialRefundAnswerLostOnceGateway.calls = []
    payment = Payment.objects.get()

    # when the handler is asked for a partial refund whose answer is lost, then asked again
    assert payment_refund_for_booking(paid, None, Decimal("2500.00")) is True
    assert payment_refund_for_booking(paid, None, Decimal("2500.00")) is True

    # then the gateway was asked twice with the one key and refunded once; one Refund row of that amount
    assert PartialRefundAnswerLostOnceGateway.calls == [(f"refund_{payment.pk}", Decimal("2500.00"))] * 2
    assert_refunded(paid, "2500.00")


def test_a_refund_above_what_was_paid_is_refused(paid):
    with pytest.raises(PaymentNotRefundable):
        payment_refund_for_booking(paid, None, Decimal("9000.01"))

    assert not Refund.objects.exists()
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.SUCCEEDED


def test_a_cancel_finished_after_its_partial_refund_tells_that_amount(customer, paid, rule):
    # given a cancel whose partial refund went through and which stopped before cancelling (a crash)
    rule("fee", fee="2000")
    assert payment_refund_for_booking(paid, customer, Decimal("5000.00")) is True

    # when the reconciler's path finishes it, or the traveller cancels again
    cancelled = booking_cancel_after_refund(booking=paid)

    # then the booking is cancelled with nothing more refunded, and the e-mail says what was
    assert cancelled.status == Booking.Status.CANCELLED
    assert_refunded(paid, "5000.00")
    assert "A refund of INR 5,000 has been issued" in " ".join(cancelled_email(paid).body_text.split())


def test_cancelling_again_after_a_partial_refund_refunds_nothing_more(customer, paid, rule):
    rule("fee", fee="2000")
    assert payment_refund_for_booking(paid, customer, Decimal("5000.00")) is True

    quote = booking_cancellation_quote(booking=paid, actor=customer)
    booking_cancel(booking=paid, actor=customer, expected_refund=quote.amount)

    assert (quote.amount, quote.refunded_already) == (Decimal("5000.00"), True)
    assert_refunded(paid, "5000.00")
    assert "A refund of INR 5,000 has been issued" in " ".join(cancelled_email(paid).body_text.split())
