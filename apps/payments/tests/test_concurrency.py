"""Races with real threads against MariaDB: never charged twice, never charged for released seats."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from apps.accounts.tests.factories import UserFactory
from apps.bookings.events import booking_confirmed
from apps.bookings.models import Booking
from apps.bookings.services import booking_holds_expire
from apps.flights.models import Flight
from apps.flights.tests.factories import FlightFactory
from apps.payments.gateway import SimulatedGateway
from apps.payments.models import GatewayCharge, Payment
from apps.payments.tests.factories import held_booking, hold_run_out, payment_body
from conftest import authenticated_client

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

RACERS = 20
CONFIRMED: list[int] = []


def _record_confirmed(event) -> None:
    CONFIRMED.append(event.booking.pk)


@pytest.fixture(autouse=True)
def _generous_rate_limit(settings):
    settings.RATELIMIT_PAYMENT = "1000/m"


@pytest.fixture(autouse=True)
def confirmations():
    CONFIRMED.clear()
    with booking_confirmed.subscribed(_record_confirmed):
        yield CONFIRMED


class GatedGateway(SimulatedGateway):
    """The simulated gateway, holding each charge until the test lets it through."""

    reached = threading.Event()
    proceed = threading.Event()

    def charge(self, **kwargs):
        GatedGateway.reached.set()
        GatedGateway.proceed.wait(timeout=10)
        return super().charge(**kwargs)


@pytest.fixture
def gated_gateway(settings):
    GatedGateway.reached = threading.Event()
    GatedGateway.proceed = threading.Event()
    settings.PAYMENT_GATEWAY = "apps.payments.tests.test_concurrency.GatedGateway"
    yield GatedGateway
    GatedGateway.proceed.set()


def race(count: int, func):
    """Run func(i) in `count` threads released together; each closes its own connection."""
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait(timeout=10)
            return func(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def pay(client, body, key):
    return client.post("/api/v1/payments", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_20_concurrent_payments_with_one_key_charge_once(confirmations):
    # given a held booking
    user = UserFactory()
    booking = held_booking(owner=user)
    body = payment_body(booking)

    # when 20 requests with the same key race
    responses = race(RACERS, lambda i: pay(authenticated_client(user), body, "same-key"))

    # then one charge, one payment, one confirmation; every other answer is the replay or 409 in use
    assert GatewayCharge.objects.count() == 1
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.SUCCEEDED
    assert confirmations == [booking.pk]
    created = [r for r in responses if r.status_code == 201]
    in_use = [r for r in responses if r.status_code == 409]
    assert len(created) + len(in_use) == RACERS
    assert {r.content for r in created} == {created[0].content}
    assert created[0].json()["id"] == payment.pk
    assert sum("Idempotent-Replayed" not in r for r in created) == 1
    assert {r.json()["code"] for r in in_use} <= {"idempotency_key_in_use"}


def test_20_concurrent_payments_with_different_keys_charge_once(confirmations):
    # given a held booking
    user = UserFactory()
    booking = held_booking(owner=user)
    body = payment_body(booking)

    # when 20 requests with 20 keys race
    responses = race(RACERS, lambda i: pay(authenticated_client(user), body, f"key-{i}"))

    # then exactly one was charged and confirmed; the others were refused without a gateway call
    assert sorted(r.status_code for r in responses) == [201] + [409] * (RACERS - 1)
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {
        "already_paid",
        "payment_in_progress",
    }
    assert GatewayCharge.objects.count() == 1
    assert Payment.objects.count() == 1
    assert confirmations == [booking.pk]
    # and once it is paid, any new key is told so
    late = pay(authenticated_client(user), body, "late-key")
    assert (late.status_code, late.json()["code"]) == (409, "already_paid")
    assert GatewayCharge.objects.count() == 1


def test_a_payment_in_flight_keeps_its_seats_when_its_hold_runs_out_under_the_sweeper(gated_gateway):
    # given a payment that has marked its booking as paying and is waiting on the gateway (no lock held)
    user = UserFactory()
    booking = held_booking(owner=user, passengers=2)
    flight_id = booking.flight_id
    with ThreadPoolExecutor(max_workers=1) as pool:

        def pay_in_thread():
            try:
                return pay(authenticated_client(user), payment_body(booking), "k1")
            finally:
                connection.close()

        paying = pool.submit(pay_in_thread)
        assert gated_gateway.reached.wait(timeout=10)

        # when its hold runs out and the sweeper runs meanwhile
        hold_run_out(booking)
        swept = booking_holds_expire()

        # then the sweeper leaves it alone, and the payment confirms it with its seats
        assert swept == 0
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.PAYING
        gated_gateway.proceed.set()
        response = paying.result(timeout=20)

    assert response.status_code == 201
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.seat_assignments.filter(active=True).count() == 2
    flight = Flight.objects.get(pk=flight_id)
    assert flight.available_seats == flight.total_seats - 2
    assert GatewayCharge.objects.count() == 1


def test_payments_racing_the_sweeper_on_run_out_holds_are_never_charged():
    # given 10 holds that ran out before the sweeper came by
    user = UserFactory()
    flight = FlightFactory()
    bookings = [held_booking(owner=user, flight=flight) for _ in range(10)]
    for booking in bookings:
        hold_run_out(booking)

    # when their payments race two sweepers
    def act(i):
        if i >= len(bookings):
            return booking_holds_expire()
        return pay(authenticated_client(user), payment_body(bookings[i]), f"k{i}")

    results = race(len(bookings) + 2, act)

    # then every hold expired with its seats back, and the gateway's charge log is empty
    assert all(r.status_code == 409 and r.json()["code"] == "booking_expired" for r in results[:10])
    assert sum(results[10:]) == 10
    assert set(Booking.objects.filter(flight=flight).values_list("status", flat=True)) == {
        Booking.Status.EXPIRED
    }
    flight.refresh_from_db()
    assert flight.available_seats == flight.total_seats
    assert not GatewayCharge.objects.exists()
    assert not Payment.objects.exists()
