"""Races of a payment against what happens to its booking meanwhile, with real threads on MariaDB.

A client's retry against the reconciler giving its payment up; a flight cancel against a slow
payment and against the payment's settlement; two refunds of one payment. Each side is stopped at a
named point (apps/payments/tests/racing.py) until the other is seen waiting on its lock or has
finished, so each interleaving is run on purpose and its outcome asserted exactly.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.bookings.models import Booking
from apps.core.models import AuditEvent
from apps.core.testing.database import session_waiting
from apps.notifications.models import Notification
from apps.payments.models import GatewayCharge, Payment, Refund
from apps.payments.services import payments_reconcile_stuck
from apps.payments.tests.factories import held_booking, payment_body
from apps.payments.tests.racing import (
    BOOKING_LOCK_WAIT,
    PAYMENT_LOCK_WAIT,
    WAIT_SECONDS,
    Gate,
    HookedGateway,
    audit,
    outbox,
    threads,
    unreachable,
)
from conftest import authenticated_client

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

Action = AuditEvent.Action
Kind = Notification.Kind
LEASE_SECONDS = 60
HELD_THEN_PAID = Counter({Kind.BOOKING_HELD: 1, Kind.BOOKING_CONFIRMED: 1, Kind.PAYMENT_RECEIPT: 1})


@pytest.fixture(autouse=True)
def gateway(settings):
    settings.PAYMENT_GATEWAY = "apps.payments.tests.racing.HookedGateway"
    settings.RATELIMIT_PAYMENT = "1000/m"
    HookedGateway.hooks = {}
    HookedGateway.calls = []
    yield HookedGateway
    HookedGateway.hooks = {}


def pay(client, body, key="k1"):
    return client.post("/api/v1/payments", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def reconcile() -> int:
    """The reconciler's run, with the production cutoff: payments older than the lease."""
    return payments_reconcile_stuck(older_than_seconds=LEASE_SECONDS)


def assert_seats(booking: Booking, taken: int) -> None:
    booking.refresh_from_db()
    flight = booking.flight
    flight.refresh_from_db()
    assert booking.seat_assignments.filter(active=True).count() == taken
    assert flight.available_seats == flight.total_seats - taken


# A client's retry resuming a payment older than its lease, against the reconciler giving it up.


@pytest.fixture
def stuck_payment(gateway, customer) -> Payment:
    """A payment whose charge request never reached the gateway, made two leases ago: the booking is
    PAYING, and the reconciler may give the payment up."""
    booking = held_booking(owner=customer)
    gateway.hooks = {"before_charge": unreachable}
    assert pay(authenticated_client(customer), payment_body(booking)).status_code == 504
    gateway.hooks, gateway.calls = {}, []
    two_leases_ago = timezone.now() - timedelta(seconds=2 * LEASE_SECONDS)
    Payment.objects.update(created_at=two_leases_ago, leased_at=two_leases_ago)  # the clock moves on
    return Payment.objects.select_related("booking").get()


def test_a_payment_resumed_by_a_retry_is_not_given_up_by_the_reconciler_meanwhile(
    gateway, customer, stuck_payment
):
    booking = stuck_payment.booking
    looked_up, charged = Gate(once=True), Gate()
    gateway.hooks = {"after_retrieve": looked_up, "after_charge": charged}
    with threads(2) as start:
        # given the reconciler, which found no charge for the payment,
        reconciling = start(reconcile)
        looked_up.wait_reached()
        # when the client's retry with the payment's key resumes it and is charged,
        retrying = start(pay, authenticated_client(customer), payment_body(booking))
        charged.wait_reached()
        # and the reconciler goes on to give the payment up before the retry records its charge
        looked_up.open()
        settled = reconciling.result(timeout=WAIT_SECONDS)
        charged.open()
        response = retrying.result(timeout=WAIT_SECONDS)

    # then the reconciler left the payment to the retry, which confirmed the booking with its charge
    assert settled == 0
    assert response.status_code == 201, response.json()
    assert (response.json()["id"], response.json()["status"]) == (stuck_payment.pk, "succeeded")
    payment = Payment.objects.get()
    charge = GatewayCharge.objects.get()
    assert (payment.status, payment.gateway_reference) == (Payment.Status.SUCCEEDED, charge.reference)
    assert (charge.idempotency_key, charge.status) == (
        stuck_payment.gateway_idempotency_key,
        GatewayCharge.Status.SUCCEEDED,
    )
    assert not Refund.objects.exists()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert_seats(booking, 1)
    assert outbox(booking.pk) == HELD_THEN_PAID
    assert audit(str(payment.pk)) == Counter({(Action.PAID, customer.pk): 1})
    # and the stored answer is that success; the reconciler has nothing left to do
    replay = pay(authenticated_client(customer), payment_body(booking))
    assert (replay.status_code, replay.content) == (201, response.content)
    assert replay["Idempotent-Replayed"] == "true"
    assert payments_reconcile_stuck(older_than_seconds=0) == 0
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.SUCCEEDED


def test_a_payment_given_up_while_a_retry_waits_is_not_resumed_the_retry_pays_afresh(
    gateway, customer, stuck_payment
):
    booking = stuck_payment.booking
    client = authenticated_client(customer)
    with threads(2) as start:
        # given the reconciler giving the payment up, stopped at the payment's row (the test holds it)
        with transaction.atomic():
            Payment.objects.select_for_update().get(pk=stuck_payment.pk)
            reconciling = start(reconcile)
            session_waiting(PAYMENT_LOCK_WAIT, deadline_seconds=WAIT_SECONDS)
            # when the client's retry with the payment's key comes, and waits for the booking's lock
            retrying = start(pay, client, payment_body(booking))
            session_waiting(BOOKING_LOCK_WAIT, deadline_seconds=WAIT_SECONDS)
        settled = reconciling.result(timeout=WAIT_SECONDS)
        response = retrying.result(timeout=WAIT_SECONDS)

    # then the payment given up stays given up, uncharged, and the retry paid with a new one
    assert settled == 1
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "succeeded"
    given_up = Payment.objects.get(pk=stuck_payment.pk)
    assert (given_up.status, given_up.gateway_reference) == (Payment.Status.FAILED, "")
    fresh = Payment.objects.get(pk=response.json()["id"])
    assert (fresh.status, fresh.idempotency_key) == (Payment.Status.SUCCEEDED, "k1")
    charge = GatewayCharge.objects.get()
    assert (charge.idempotency_key, charge.status) == (
        fresh.gateway_idempotency_key,
        GatewayCharge.Status.SUCCEEDED,
    )
    assert [call for call in gateway.calls if call[1] == stuck_payment.gateway_idempotency_key] == [
        ("retrieve", stuck_payment.gateway_idempotency_key)
    ]
    assert not Refund.objects.exists()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert_seats(booking, 1)
    assert outbox(booking.pk) == HELD_THEN_PAID
    assert audit(str(given_up.pk), str(fresh.pk)) == Counter({(Action.PAID, customer.pk): 1})
    assert payments_reconcile_stuck(older_than_seconds=0) == 0
