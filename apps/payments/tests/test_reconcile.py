"""Payments stuck in processing (gateway timeout, crash) are settled through the gateway's lookup."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.bookings.events import booking_cancelled
from apps.bookings.exceptions import BookingNotPayable
from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel, booking_holds_expire
from apps.core.exceptions import Busy
from apps.core.idempotency import request_fingerprint
from apps.core.models import IdempotencyKey
from apps.flights.models import Flight
from apps.payments.gateway import GatewayTimeout, SimulatedGateway
from apps.payments.models import GatewayCharge, Payment, Refund
from apps.payments.services import payment_finalize, payments_reconcile_stuck
from apps.payments.tasks import reconcile_stuck_payments_task
from apps.payments.tests.factories import held_booking, hold_run_out, payment_body

pytestmark = pytest.mark.django_db


class UnreachableGateway(SimulatedGateway):
    """A network failure before the request reached the gateway: times out without charging."""

    def charge(self, **kwargs):
        raise GatewayTimeout("connection timed out")


class RefundDownGateway(SimulatedGateway):
    """The gateway's refund endpoint does not answer."""

    def refund(self, **kwargs):
        raise GatewayTimeout("refund timed out")


@pytest.fixture
def booking(customer):
    return held_booking(owner=customer, passengers=2)


def pay(client, body, key="k1"):
    return client.post("/api/v1/payments", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_reconciliation_confirms_a_timed_out_charge_when_the_client_never_returns(customer_client, booking):
    # given a charge made by the gateway whose answer was lost
    assert pay(customer_client, payment_body(booking, token="tok_timeout")).status_code == 504

    # when the reconciler runs
    settled = payments_reconcile_stuck(older_than_seconds=0)

    # then the payment succeeded with the one charge and the booking is confirmed with its seats
    assert settled == 1
    payment = Payment.objects.get()
    charge = GatewayCharge.objects.get()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.gateway_reference == charge.reference
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.seat_assignments.filter(active=True).count() == 2
    # and a late retry with the same key gets that payment, not already_paid
    retried = pay(customer_client, payment_body(booking, token="tok_timeout"))
    assert (retried.status_code, retried.json()["id"]) == (201, payment.pk)
    assert GatewayCharge.objects.count() == 1


def test_reconciliation_leaves_young_payments_alone(customer_client, booking):
    pay(customer_client, payment_body(booking, token="tok_timeout"))

    settled = payments_reconcile_stuck(older_than_seconds=3600)

    assert settled == 0
    assert Payment.objects.get().status == Payment.Status.PROCESSING


def test_reconciliation_releases_a_payment_the_gateway_never_charged(settings, customer_client, booking):
    # given a payment whose charge request never reached the gateway
    settings.PAYMENT_GATEWAY = "apps.payments.tests.test_reconcile.UnreachableGateway"
    assert pay(customer_client, payment_body(booking), key="k1").status_code == 504
    settings.PAYMENT_GATEWAY = "apps.payments.gateway.SimulatedGateway"

    # when the reconciler runs
    payments_reconcile_stuck(older_than_seconds=0)

    # then the payment failed with no charge, and the booking is held (payable) again
    assert Payment.objects.get().status == Payment.Status.FAILED
    assert not GatewayCharge.objects.exists()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD
    paid = pay(customer_client, payment_body(booking), key="k2")
    assert paid.status_code == 201
    assert GatewayCharge.objects.count() == 1


def test_a_released_payment_whose_hold_ran_out_is_expired_by_the_sweeper(settings, customer_client, booking):
    # given a payment that never reached the gateway, and a hold that ran out meanwhile
    settings.PAYMENT_GATEWAY = "apps.payments.tests.test_reconcile.UnreachableGateway"
    pay(customer_client, payment_body(booking))
    hold_run_out(booking)

    # when the reconciler and then the sweeper run
    payments_reconcile_stuck(older_than_seconds=0)
    expired = booking_holds_expire()

    # then the booking expired with its seats back and nothing was charged
    assert expired == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.EXPIRED
    assert booking.seat_assignments.filter(active=True).count() == 0
    flight = booking.flight
    assert flight.available_seats == flight.total_seats
    assert not GatewayCharge.objects.exists()


def test_a_charge_arriving_after_its_payment_was_given_up_is_refunded(settings, customer_client, booking):
    # given a payment given up by the reconciler (no charge seen at the time)
    settings.PAYMENT_GATEWAY = "apps.payments.tests.test_reconcile.UnreachableGateway"
    pay(customer_client, payment_body(booking))
    payments_reconcile_stuck(older_than_seconds=0)
    payment = Payment.objects.get()
    settings.PAYMENT_GATEWAY = "apps.payments.gateway.SimulatedGateway"

    # when the slow original request's charge lands after all
    late = SimulatedGateway().charge(
        idempotency_key=payment.gateway_idempotency_key,
        amount=payment.amount,
        currency="INR",
        token="tok_visa",
    )
    with pytest.raises(BookingNotPayable):
        payment_finalize(payment_id=payment.pk, result=late)

    # then the money goes back: never paid without a booking
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert Refund.objects.get(payment=payment).amount == payment.amount
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.REFUNDED
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD


def test_a_crashed_request_is_retried_with_its_key_and_charged_once(customer, customer_client, booking):
    # given a request that charged and then its worker died, leaving its claim with an expired lease
    body = payment_body(booking, token="tok_timeout")
    pay(customer_client, body)
    IdempotencyKey.objects.create(
        owner=customer,
        key="k1",
        method="POST",
        route="/api/v1/payments",
        request_fingerprint=request_fingerprint(method="POST", route="/api/v1/payments", body=body),
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )

    # when the client retries with its key
    response = pay(customer_client, body)

    # then the retry takes the claim over, finds the one charge and confirms the booking
    assert response.status_code == 201
    assert response.json()["status"] == "succeeded"
    assert GatewayCharge.objects.count() == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert IdempotencyKey.objects.get(owner=customer, key="k1").state == IdempotencyKey.State.COMPLETED


def test_reconcile_task_settles_payments_older_than_the_lease(settings, customer_client, booking):
    settings.IDEMPOTENCY_LEASE_SECONDS = 0
    pay(customer_client, payment_body(booking, token="tok_timeout"))

    assert reconcile_stuck_payments_task() == 1
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED


def test_a_late_charge_whose_refund_timed_out_is_refunded_by_the_next_reconciliation(
    settings, customer_client, booking
):
    # given a given-up payment whose late charge could not be refunded at once
    settings.PAYMENT_GATEWAY = "apps.payments.tests.test_reconcile.UnreachableGateway"
    pay(customer_client, payment_body(booking))
    payments_reconcile_stuck(older_than_seconds=0)
    payment = Payment.objects.get()
    late = SimulatedGateway().charge(
        idempotency_key=payment.gateway_idempotency_key,
        amount=payment.amount,
        currency="INR",
        token="tok_visa",
    )
    settings.PAYMENT_GATEWAY = "apps.payments.tests.test_reconcile.RefundDownGateway"
    with pytest.raises(BookingNotPayable):
        payment_finalize(payment_id=payment.pk, result=late)
    assert not Refund.objects.exists()

    # when the reconciler runs with the gateway answering again
    settings.PAYMENT_GATEWAY = "apps.payments.gateway.SimulatedGateway"
    settled = payments_reconcile_stuck(older_than_seconds=0)

    # then the charge is refunded once
    assert settled == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert Refund.objects.count() == 1
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.REFUNDED
    assert payments_reconcile_stuck(older_than_seconds=0) == 0


class CountingRefundGateway(SimulatedGateway):
    refunds = 0

    def refund(self, **kwargs):
        type(self).refunds += 1
        return super().refund(**kwargs)


@pytest.fixture
def short_lock_wait(settings):
    """This connection waits 1 s for a row lock instead of DB_LOCK_WAIT_TIMEOUT_SECONDS."""
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = %s", [settings.DB_LOCK_WAIT_TIMEOUT_SECONDS])


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_refunded_booking_whose_cancel_failed_is_cancelled_by_the_reconciler(
    request, settings, customer, customer_client, booking, short_lock_wait
):
    # given a paid booking
    settings.PAYMENT_GATEWAY = "apps.payments.tests.test_reconcile.CountingRefundGateway"
    CountingRefundGateway.refunds = 0
    assert pay(customer_client, payment_body(booking)).status_code == 201
    cancelled: list = []
    booking_cancelled.subscribe(cancelled.append)
    request.addfinalizer(lambda: booking_cancelled.unsubscribe(cancelled.append))

    # and its cancel failing after the refund: the flight is locked for longer than two lock waits
    locked, release = threading.Event(), threading.Event()

    def lock_holder() -> None:
        try:
            with transaction.atomic():
                Flight.objects.select_for_update().get(pk=booking.flight_id)
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=lock_holder)
    holder.start()
    assert locked.wait(timeout=10)
    try:
        with pytest.raises(Busy):
            booking_cancel(booking=booking, actor=customer)
    finally:
        release.set()
        holder.join(timeout=10)
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.REFUNDED
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED

    # when the reconciler runs
    settled = payments_reconcile_stuck(older_than_seconds=0)

    # then the booking is cancelled as refunded, its seats back, and the money went back once
    assert settled == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.seat_assignments.filter(active=True).count() == 0
    flight = Flight.objects.get(pk=booking.flight_id)
    assert flight.available_seats == flight.total_seats
    assert CountingRefundGateway.refunds == 1
    assert Refund.objects.count() == 1
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.REFUNDED
    assert [(event.booking.pk, event.refunded) for event in cancelled] == [(booking.pk, True)]
    assert payments_reconcile_stuck(older_than_seconds=0) == 0


def test_the_reconciler_leaves_a_fresh_refund_to_the_cancel_that_made_it(customer, customer_client, booking):
    # given a refund that just went through, its booking's cancel still running
    assert pay(customer_client, payment_body(booking)).status_code == 201
    Payment.objects.update(status=Payment.Status.REFUNDED)

    assert payments_reconcile_stuck(older_than_seconds=3600) == 0

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


class FlightCancelledRefundDownGateway(SimulatedGateway):
    """The flight is cancelled while the charge runs, and the refund endpoint does not answer."""

    def charge(self, **kwargs):
        Flight.objects.filter(pk=Booking.objects.get().flight_id).update(status=Flight.Status.CANCELLED)
        return super().charge(**kwargs)

    def refund(self, **kwargs):
        raise GatewayTimeout("refund timed out")


def test_an_orphan_charge_whose_refund_times_out_answers_409_and_is_refunded_later(
    settings, customer_client, booking
):
    # given a charge that can no longer confirm its booking, and a refund that times out
    settings.PAYMENT_GATEWAY = "apps.payments.tests.test_reconcile.FlightCancelledRefundDownGateway"

    response = pay(customer_client, payment_body(booking))

    # then the client is told the booking could not be confirmed (not a 500), nothing refunded yet
    assert (response.status_code, response.json()["code"]) == (409, "booking_expired")
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.FAILED
    assert not Refund.objects.exists()

    # and the next reconciliation refunds it once
    settings.PAYMENT_GATEWAY = "apps.payments.gateway.SimulatedGateway"
    assert payments_reconcile_stuck(older_than_seconds=0) == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.REFUNDED


class BrokenLookupGateway(SimulatedGateway):
    """Looking up one key blows up (a bug, a malformed answer)."""

    broken_key = ""

    def retrieve(self, idempotency_key):
        if idempotency_key == self.broken_key:
            raise RuntimeError("malformed gateway answer")
        return super().retrieve(idempotency_key)


def test_one_failing_payment_does_not_stall_the_reconciliation(settings, customer, customer_client, caplog):
    # given two stuck payments, the older of which cannot be processed
    first = held_booking(owner=customer)
    second = held_booking(owner=customer)
    pay(customer_client, payment_body(first, token="tok_timeout"), key="k1")
    pay(customer_client, payment_body(second, token="tok_timeout"), key="k2")
    broken = Payment.objects.get(booking=first)
    Payment.objects.filter(pk=broken.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    settings.PAYMENT_GATEWAY = "apps.payments.tests.test_reconcile.BrokenLookupGateway"
    BrokenLookupGateway.broken_key = broken.gateway_idempotency_key

    # when the reconciler runs
    settled = payments_reconcile_stuck(older_than_seconds=0)

    # then the broken one is logged and left, and the next one is still settled
    assert settled == 1
    assert Payment.objects.get(pk=broken.pk).status == Payment.Status.PROCESSING
    assert Payment.objects.get(booking=second).status == Payment.Status.SUCCEEDED
    assert f"Reconciling payment {broken.pk} failed" in caplog.text
