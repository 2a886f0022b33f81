from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.bookings.events import booking_confirmed
from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel
from apps.core.models import AuditEvent, IdempotencyKey
from apps.flights.models import Flight
from apps.flights.services import flight_update
from apps.flights.tests.factories import FlightFactory
from apps.notifications.models import Notification
from apps.payments.gateway import SimulatedGateway
from apps.payments.models import GatewayCharge, Payment, Refund
from apps.payments.tests.factories import held_booking, hold_run_out, payment_body

pytestmark = pytest.mark.django_db

CONFIRMED: list = []


@pytest.fixture(autouse=True)
def confirmed_events():
    """The booking_confirmed events published during the test."""
    CONFIRMED.clear()
    with booking_confirmed.subscribed(CONFIRMED.append):
        yield CONFIRMED


@pytest.fixture
def booking(customer):
    return held_booking(owner=customer, passengers=2)


def pay(client, body, key="pay-key-1"):
    return client.post("/api/v1/payments", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def assert_seats_held(booking: Booking, count: int) -> None:
    booking.refresh_from_db()
    flight = booking.flight
    flight.refresh_from_db()
    assert booking.seat_assignments.filter(active=True).count() == count
    assert flight.available_seats == flight.total_seats - count


def test_paying_a_held_booking_confirms_it(customer, customer_client, booking, confirmed_events):
    # when the owner pays the exact total
    response = pay(customer_client, payment_body(booking))

    # then the payment succeeded, the booking is confirmed with its seats, and one charge was made
    assert response.status_code == 201
    body = response.json()
    payment = Payment.objects.get()
    assert body["id"] == payment.pk
    assert body["status"] == "succeeded"
    assert body["amount"] == str(booking.total_amount)
    assert body["currency"] == booking.currency
    assert body["booking"] == booking.reference
    charge = GatewayCharge.objects.get()
    assert body["gateway_reference"] == charge.reference
    assert charge.idempotency_key == payment.gateway_idempotency_key
    assert charge.amount == booking.total_amount
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.confirmed_at is not None
    assert payment.succeeded_for_id == booking.pk
    assert_seats_held(booking, 2)
    assert [(e.booking.pk, e.receipt.gateway_reference, e.receipt.amount) for e in confirmed_events] == [
        (booking.pk, charge.reference, booking.total_amount)
    ]


def test_replay_returns_the_identical_response_and_charges_once(customer_client, booking):
    first = pay(customer_client, payment_body(booking))

    replay = pay(customer_client, payment_body(booking))

    assert replay.status_code == first.status_code == 201
    assert replay.content == first.content
    assert replay["Idempotent-Replayed"] == "true"
    assert GatewayCharge.objects.count() == 1
    assert Payment.objects.count() == 1


def test_same_key_with_a_different_body_is_a_422(customer_client, booking):
    pay(customer_client, payment_body(booking))

    response = pay(customer_client, payment_body(booking, token="tok_chargeDeclined"))

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert GatewayCharge.objects.count() == 1


def test_missing_and_over_long_keys_are_400_without_a_charge(customer_client, booking):
    missing = customer_client.post("/api/v1/payments", payment_body(booking), format="json")
    too_long = pay(customer_client, payment_body(booking), key="k" * 256)

    assert (missing.status_code, missing.json()["code"]) == (400, "idempotency_key_missing")
    assert (too_long.status_code, too_long.json()["code"]) == (400, "idempotency_key_invalid")
    assert not GatewayCharge.objects.exists()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD


def test_another_users_key_is_a_new_request_that_cannot_read_the_first_response(
    customer_client, other_customer, other_customer_client, booking
):
    # given the owner paid with a key
    pay(customer_client, payment_body(booking))

    # when another user sends the same key and body
    response = pay(other_customer_client, payment_body(booking))

    # then it runs as their own request: not their booking, so 404, and no replay of the owner's payment
    assert response.status_code == 404
    assert response.json()["code"] == "booking_not_found"
    assert "Idempotent-Replayed" not in response
    assert GatewayCharge.objects.count() == 1


def test_another_users_booking_is_a_404_and_not_charged(other_customer_client, booking):
    response = pay(other_customer_client, payment_body(booking))

    assert response.status_code == 404
    assert response.json()["code"] == "booking_not_found"
    assert not GatewayCharge.objects.exists()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD


@pytest.mark.parametrize("overrides", [{"amount": "1.00"}, {"currency": "USD"}], ids=["amount", "currency"])
def test_amount_or_currency_mismatch_is_a_422_and_not_charged(customer_client, booking, overrides):
    response = pay(customer_client, payment_body(booking, **overrides))

    assert response.status_code == 422
    assert response.json()["code"] == "amount_mismatch"
    assert not GatewayCharge.objects.exists()
    assert not Payment.objects.exists()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD


def test_declined_is_a_402_with_the_reason_and_the_booking_stays_payable(customer_client, booking):
    # when the card is declined
    declined = pay(customer_client, payment_body(booking, token="tok_insufficientFunds"), key="k1")

    # then 402 with the gateway's reason, and the booking is still held with its seats
    assert declined.status_code == 402
    assert declined.json()["code"] == "payment_declined"
    assert declined.json()["detail"] == "Your card has insufficient funds."
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD
    assert_seats_held(booking, 2)
    assert Payment.objects.get().status == Payment.Status.DECLINED

    # and paying again with another card (a new key) succeeds
    paid = pay(customer_client, payment_body(booking), key="k2")
    assert paid.status_code == 201
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert list(GatewayCharge.objects.order_by("id").values_list("status", flat=True)) == [
        "declined",
        "succeeded",
    ]


def test_declined_response_is_replayed_for_the_same_key(customer_client, booking):
    first = pay(customer_client, payment_body(booking, token="tok_chargeDeclined"))

    replay = pay(customer_client, payment_body(booking, token="tok_chargeDeclined"))

    assert replay.status_code == 402
    assert replay.content == first.content
    assert replay["Idempotent-Replayed"] == "true"
    assert GatewayCharge.objects.count() == 1


def test_paying_a_paid_booking_with_a_new_key_is_409_already_paid_without_a_gateway_call(
    customer_client, booking
):
    pay(customer_client, payment_body(booking), key="k1")

    response = pay(customer_client, payment_body(booking), key="k2")

    assert response.status_code == 409
    assert response.json()["code"] == "already_paid"
    assert GatewayCharge.objects.count() == 1
    assert Payment.objects.count() == 1


def test_a_hold_past_its_expiry_is_409_booking_expired_without_a_charge(customer_client, booking):
    # given a hold that ran out, before the sweeper ran
    hold_run_out(booking)

    response = pay(customer_client, payment_body(booking))

    assert response.status_code == 409
    assert response.json()["code"] == "booking_expired"
    assert not GatewayCharge.objects.exists()
    assert not Payment.objects.exists()


def test_an_expired_booking_is_409_booking_expired(customer_client, booking):
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.EXPIRED)

    response = pay(customer_client, payment_body(booking))

    assert response.json()["code"] == "booking_expired"
    assert not GatewayCharge.objects.exists()


def test_timeout_then_retry_with_the_same_key_gets_the_one_charge(customer, customer_client, booking):
    # when the gateway charges but does not answer
    timed_out = pay(customer_client, payment_body(booking, token="tok_timeout"))

    # then a 504 releases the key, and the payment waits in processing with the booking's seats kept
    assert timed_out.status_code == 504
    assert timed_out.json()["code"] == "gateway_timeout"
    assert not IdempotencyKey.objects.filter(owner=customer).exists()
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.PROCESSING
    booking.refresh_from_db()
    assert booking.status == Booking.Status.PAYING

    # when the client retries with the same key
    retried = pay(customer_client, payment_body(booking, token="tok_timeout"))

    # then it gets the one charge: confirmed, never charged twice
    assert retried.status_code == 201
    assert retried.json()["id"] == payment.pk
    assert retried.json()["status"] == "succeeded"
    assert GatewayCharge.objects.count() == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert_seats_held(booking, 2)


def test_a_new_key_while_a_payment_is_processing_is_409_payment_in_progress(customer_client, booking):
    pay(customer_client, payment_body(booking, token="tok_timeout"), key="k1")

    response = pay(customer_client, payment_body(booking), key="k2")

    assert response.status_code == 409
    assert response.json()["code"] == "payment_in_progress"
    assert GatewayCharge.objects.count() == 1
    assert Payment.objects.count() == 1


def test_validation_errors_are_400(customer_client, booking):
    response = pay(customer_client, {"booking_reference": booking.reference, "amount": "x"})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"amount", "currency", "payment_method"}
    assert not GatewayCharge.objects.exists()


def test_get_payment_for_owner_and_staff_but_404_for_others(
    customer_client, other_customer_client, staff_client, booking
):
    payment_id = pay(customer_client, payment_body(booking)).json()["id"]

    own = customer_client.get(f"/api/v1/payments/{payment_id}")
    staff = staff_client.get(f"/api/v1/payments/{payment_id}")
    other = other_customer_client.get(f"/api/v1/payments/{payment_id}")

    assert own.status_code == staff.status_code == 200
    assert own.json()["status"] == "succeeded"
    assert other.status_code == 404


def test_staff_without_the_view_permission_get_a_404_for_a_customers_payment(
    customer_client, bare_staff_client, booking
):
    # given a customer's payment, and a staff user with no group (no payments.view_payment)
    payment_id = pay(customer_client, payment_body(booking)).json()["id"]

    # when the staff user asks for it
    response = bare_staff_client.get(f"/api/v1/payments/{payment_id}")

    # then it is answered as it is to any other customer
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_the_database_refuses_a_second_succeeded_payment_for_one_booking(customer, customer_client, booking):
    pay(customer_client, payment_body(booking))

    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            booking=booking,
            owner=customer,
            amount=booking.total_amount,
            currency=booking.currency,
            status=Payment.Status.SUCCEEDED,
            payment_method="tok_visa",
            gateway_idempotency_key="pay_second",
            succeeded_for=booking,
        )


def test_payments_are_rate_limited_per_user_before_the_key_is_claimed(
    settings, customer, customer_client, booking
):
    settings.RATELIMIT_PAYMENT = "2/m"
    pay(customer_client, payment_body(booking, amount="1.00"), key="k1")
    pay(customer_client, payment_body(booking, amount="1.00"), key="k2")

    limited = pay(customer_client, payment_body(booking), key="k3")

    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert not IdempotencyKey.objects.filter(owner=customer, key="k3").exists()
    assert not GatewayCharge.objects.exists()


def test_a_booking_on_a_cancelled_flight_cannot_be_paid(customer_client, booking):
    # given a held booking whose flight the airline cancelled (its cancel has not reached the booking)
    Flight.objects.filter(pk=booking.flight_id).update(status=Flight.Status.CANCELLED)

    # when the customer pays it
    response = pay(customer_client, payment_body(booking))

    # then it is refused before the gateway is called, and the booking is unchanged
    assert (response.status_code, response.json()["code"]) == (409, "flight_not_bookable")
    assert not GatewayCharge.objects.exists()
    assert not Payment.objects.exists()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD


class FlightCancelledDuringChargeGateway(SimulatedGateway):
    """The airline cancels the flight while the gateway is charging."""

    def charge(self, **kwargs):
        Flight.objects.filter(pk=Booking.objects.get().flight_id).update(status=Flight.Status.CANCELLED)
        return super().charge(**kwargs)


def test_a_charge_succeeding_after_its_flight_was_cancelled_is_refunded(settings, customer_client, booking):
    settings.PAYMENT_GATEWAY = "apps.payments.tests.test_api.FlightCancelledDuringChargeGateway"

    response = pay(customer_client, payment_body(booking))

    # then the charge goes back, and the booking ends cancelled by the airline with its passenger told
    assert (response.status_code, response.json()["code"]) == (409, "booking_expired")
    assert "The flight was cancelled" in response.json()["detail"]
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.REFUNDED
    assert payment.succeeded_for_id is None
    assert Refund.objects.get(payment=payment).amount == payment.amount
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.REFUNDED
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.seat_assignments.filter(active=True).count() == 0
    assert CONFIRMED == []
    email = Notification.objects.get(booking=booking, kind=Notification.Kind.FLIGHT_CANCELLED)
    assert "refund" in email.body_text


@pytest.fixture
def editable_booking(customer):
    """A held booking of two on a flight whose fares match its cabins, so that staff can edit it."""
    return held_booking(owner=customer, flight=FlightFactory(airplane__layout__business_rows=2), passengers=2)


def flight_departure_move(flight_id: int, *, seconds_from_now: int) -> None:
    """Staff move a flight's departure, through the flights service as the admin does."""
    departure = timezone.now().replace(microsecond=0) + timedelta(seconds=seconds_from_now)
    flight_update(flight_id=flight_id, data={"departure_time": departure})


@pytest.mark.parametrize(
    ("sale_closed_by", "reason"),
    [
        ("departure moved inside the sales cutoff", "Bookings close 30 minutes before departure."),
        ("the moved departure passed", "The flight has departed."),
        ("the flight marked departed", "The flight has departed."),
    ],
)
def test_a_booking_whose_flight_is_no_longer_on_sale_is_not_charged(
    settings, customer_client, editable_booking, sale_closed_by, reason
):
    booking = editable_booking
    # given a held booking whose flight staff moved to depart 15 seconds from now
    settings.BOOKING_MIN_MINUTES_BEFORE_DEPARTURE = 30
    flight_departure_move(booking.flight_id, seconds_from_now=15)
    if sale_closed_by == "the moved departure passed":
        Flight.objects.filter(pk=booking.flight_id).update(  # 20 seconds later, as the clock goes
            departure_time=timezone.now() - timedelta(seconds=5)
        )
    elif sale_closed_by == "the flight marked departed":
        flight_update(flight_id=booking.flight_id, data={"status": Flight.Status.DEPARTED})

    # when its owner pays it
    response = pay(customer_client, payment_body(booking))

    # then it is refused by the sale rule before the gateway is called, and the booking is unchanged
    assert (response.status_code, response.json()["code"]) == (409, "flight_not_bookable")
    assert response.json()["detail"] == f"{reason} This booking cannot be paid."
    assert not GatewayCharge.objects.exists()
    assert not Payment.objects.exists()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD
    assert_seats_held(booking, 2)
    assert CONFIRMED == []


class SaleClosedDuringChargeGateway(SimulatedGateway):
    """Staff move the flight's departure inside the sales cutoff while the gateway is charging."""

    def charge(self, **kwargs):
        flight_departure_move(Booking.objects.get().flight_id, seconds_from_now=15)
        return super().charge(**kwargs)


def test_a_charge_succeeding_after_the_sale_closed_is_refunded_and_the_booking_stays_held(
    settings, customer, customer_client, editable_booking
):
    booking = editable_booking
    settings.BOOKING_MIN_MINUTES_BEFORE_DEPARTURE = 30
    settings.PAYMENT_GATEWAY = "apps.payments.tests.test_api.SaleClosedDuringChargeGateway"

    response = pay(customer_client, payment_body(booking))

    # then the charge goes back and the booking is held again (its hold runs out as usual), unpaid
    assert (response.status_code, response.json()["code"]) == (409, "booking_expired")
    assert response.json()["detail"] == (
        "Bookings close 30 minutes before departure. (when the charge succeeded) The charge was refunded."
    )
    payment = Payment.objects.get()
    assert (payment.status, payment.succeeded_for_id) == (Payment.Status.REFUNDED, None)
    assert Refund.objects.get(payment=payment).amount == payment.amount
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.REFUNDED
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD
    assert_seats_held(booking, 2)
    assert CONFIRMED == []
    assert not Notification.objects.filter(
        booking=booking, kind__in=[Notification.Kind.BOOKING_CONFIRMED, Notification.Kind.PAYMENT_RECEIPT]
    ).exists()
    assert list(AuditEvent.objects.filter(subject_ref=str(payment.pk)).values_list("action", "actor_id")) == [
        (AuditEvent.Action.REFUNDED, None)
    ]
    # and its owner may still cancel the hold before departure, with nothing left to refund
    assert booking_cancel(booking=booking, actor=customer).status == Booking.Status.CANCELLED
    assert Refund.objects.count() == 1
