"""Races of a payment against what happens to its booking meanwhile, with real threads on MariaDB.

A client's retry against the reconciler giving its payment up; a flight cancel against a slow
payment and against the payment's settlement; two refunds of one payment. Each side is stopped at a
named point (apps/payments/tests/racing.py) until the other is seen waiting on its lock or has
finished, so each interleaving is run on purpose and its outcome asserted exactly.
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.bookings.events import booking_confirmed
from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel, cancelled_flights_finish
from apps.core.exceptions import ApplicationError
from apps.core.models import AuditEvent
from apps.core.testing.database import session_waiting
from apps.flights.events import flight_cancelled
from apps.flights.models import Flight
from apps.flights.services import flight_cancel
from apps.notifications.models import Notification
from apps.payments.models import GatewayCharge, Payment, Refund
from apps.payments.services import payment_refund, payments_reconcile_stuck
from apps.payments.tests.factories import held_booking, payment_body
from apps.payments.tests.racing import (
    BOOKING_LOCK_WAIT,
    FLIGHT_LOCK_WAIT,
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
Subject = AuditEvent.Subject
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
    assert audit(Subject.PAYMENT, payment.pk) == Counter({(Action.PAID, customer.pk): 1})
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
    assert audit(Subject.PAYMENT, given_up.pk, fresh.pk) == Counter({(Action.PAID, customer.pk): 1})
    assert payments_reconcile_stuck(older_than_seconds=0) == 0


# The airline cancelling a flight while one of its passengers pays.


def assert_cancelled_by_the_airline(
    booking: Booking,
    *,
    charged: bool,
    staff_user,
    cancelled_by_staff: bool = False,
    confirmed_first: bool = False,
) -> None:
    """The end every booking of a cancelled flight reaches, whatever it was doing: cancelled by the
    airline with its seats back, its one charge refunded (or none made), its passenger told once.

    `cancelled_by_staff`: the flight cancel's own pass cancelled it (audited with the staff member),
    not the payment that ended after the cancel (the system). `confirmed_first`: it was paid and
    confirmed before the cancel took the flight's lock, so its e-ticket went out before.
    """
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert_seats(booking, 0)
    charges = list(GatewayCharge.objects.values_list("status", flat=True))
    assert charges == ([GatewayCharge.Status.REFUNDED] if charged else [])
    payments = list(Payment.objects.filter(booking=booking))
    refunded = [payment for payment in payments if payment.status == Payment.Status.REFUNDED]
    assert len(refunded) == Refund.objects.count() == (1 if charged else 0)
    assert [payment.succeeded_for_id for payment in payments] == [
        booking.pk if confirmed_first else None
    ] * len(payments)
    email = Notification.objects.get(booking=booking, kind=Kind.FLIGHT_CANCELLED)
    assert ("A full refund of" if charged else "No payment was taken") in email.body_text
    emails = Counter({Kind.BOOKING_HELD: 1, Kind.FLIGHT_CANCELLED: 1})
    if confirmed_first:
        emails.update([Kind.BOOKING_CONFIRMED, Kind.PAYMENT_RECEIPT])
    assert outbox(booking.pk) == emails
    actor = staff_user.pk if cancelled_by_staff else None
    assert audit(Subject.BOOKING, booking.reference) == Counter(
        {(Action.CREATED, booking.owner_id): 1, (Action.STAFF_CANCELLED, actor): 1}
    )
    payment_audit = Counter()
    if confirmed_first:
        payment_audit[(Action.PAID, booking.owner_id)] = 1
    if charged:
        payment_audit[(Action.STAFF_REFUNDED if cancelled_by_staff else Action.REFUNDED, actor)] = 1
    assert audit(Subject.PAYMENT, *(payment.pk for payment in payments)) == payment_audit
    assert audit(Subject.FLIGHT, booking.flight_id) == Counter({(Action.FLIGHT_CANCELLED, staff_user.pk): 1})
    # and nothing is left for the jobs that finish what a race left over
    assert cancelled_flights_finish() == 0
    assert payments_reconcile_stuck(older_than_seconds=0) == 0


def stopped_then_unreachable(gate: Gate):
    def hook() -> None:
        gate()
        unreachable()

    return hook


@pytest.mark.parametrize(
    "slow_payment",
    [
        "charged after the cancel",
        "charged, its answer lost, settled by the reconciler",
        "charged, its answer lost, retried by the client, settled by the reconciler",
        "never charged, given up by the reconciler",
    ],
)
def test_a_flight_cancelled_while_a_passenger_pays_ends_the_booking_cancelled_refunded_and_told(
    gateway, customer, staff_user, slow_payment
):
    # given a passenger paying, the booking PAYING and the gateway not yet charging
    booking = held_booking(owner=customer, passengers=2)
    client = authenticated_client(customer)
    token = "tok_visa" if slow_payment == "charged after the cancel" else "tok_timeout"
    charging = Gate()
    gateway.hooks = {
        "before_charge": stopped_then_unreachable(charging) if slow_payment.startswith("never") else charging
    }
    with threads(1) as start:
        paying = start(pay, client, payment_body(booking, token=token))
        charging.wait_reached()

        # when staff cancel the flight (its bookings' cancel runs when that commits, here)
        flight_cancel(flight_id=booking.flight_id, actor=staff_user)

        # then the paying booking is left to its payment, which goes on and ends
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.PAYING
        charging.open()
        response = paying.result(timeout=WAIT_SECONDS)

    if slow_payment == "charged after the cancel":
        assert (response.status_code, response.json()["code"]) == (409, "booking_expired")
        assert response.json()["detail"] == (
            "The flight was cancelled when the charge succeeded. The charge was refunded."
        )
    else:
        assert response.status_code == 504
        if "retried" in slow_payment:
            retried = pay(client, payment_body(booking, token=token))
            assert (retried.status_code, retried.json()["code"]) == (409, "flight_not_bookable")
            assert GatewayCharge.objects.count() == 1
        assert payments_reconcile_stuck(older_than_seconds=0) == 1
    assert_cancelled_by_the_airline(
        booking, charged=not slow_payment.startswith("never"), staff_user=staff_user
    )


@pytest.mark.parametrize("trial", range(4))
def test_a_flight_cancel_and_a_payment_released_together_leave_the_booking_cancelled(
    customer, staff_user, trial
):
    # given a held booking, its owner paying and staff cancelling its flight at the same instant
    booking = held_booking(owner=customer, passengers=2)
    client = authenticated_client(customer)
    together = threading.Barrier(2)

    def paying():
        together.wait(timeout=WAIT_SECONDS)
        return pay(client, payment_body(booking))

    def cancelling():
        together.wait(timeout=WAIT_SECONDS)
        return flight_cancel(flight_id=booking.flight_id, actor=staff_user)

    with threads(2) as start:
        payment_request, flight_request = start(paying), start(cancelling)
        response = payment_request.result(timeout=WAIT_SECONDS)
        assert flight_request.result(timeout=WAIT_SECONDS).status == Flight.Status.CANCELLED

    # then whichever came first, the booking ends cancelled, refunded if charged, its passenger told
    charged = GatewayCharge.objects.exists()
    answer = (response.status_code, response.json().get("code"))
    if answer[0] == 201:  # paid before the cancel took the flight's lock: the cancel refunded it
        assert charged
    elif charged:  # charged, then settled after the cancel: the settlement refunded it
        assert answer == (409, "booking_expired")
    else:  # the cancel came first: refused before the gateway (sale closed, or booking cancelled)
        assert answer in {(409, "flight_not_bookable"), (409, "booking_expired")}
    assert_cancelled_by_the_airline(
        booking,
        charged=charged,
        staff_user=staff_user,
        cancelled_by_staff=response.status_code == 201 or not charged,
        confirmed_first=response.status_code == 201,
    )


# A payment's settlement and a flight cancel, each waiting on the other's flight lock.


def test_a_booking_confirmed_just_before_its_flight_is_cancelled_is_then_cancelled_and_refunded(
    customer, staff_user
):
    booking = held_booking(owner=customer, passengers=2)
    confirming = Gate()
    with booking_confirmed.subscribed(confirming), threads(2) as start:
        # given a payment confirming its booking, inside its settlement's transaction (flight locked)
        paying = start(pay, authenticated_client(customer), payment_body(booking))
        confirming.wait_reached()
        # when staff cancel the flight, and the cancel waits for the flight's lock
        cancelling = start(lambda: flight_cancel(flight_id=booking.flight_id, actor=staff_user))
        session_waiting(FLIGHT_LOCK_WAIT, deadline_seconds=WAIT_SECONDS)
        confirming.open()
        response = paying.result(timeout=WAIT_SECONDS)
        assert cancelling.result(timeout=WAIT_SECONDS).status == Flight.Status.CANCELLED

    # then the payment confirmed it, and the cancel, which came after, refunded and cancelled it
    assert (response.status_code, response.json()["status"]) == (201, "succeeded")
    assert Payment.objects.get().status == Payment.Status.REFUNDED
    assert_cancelled_by_the_airline(
        booking, charged=True, staff_user=staff_user, cancelled_by_staff=True, confirmed_first=True
    )


def test_a_payment_settling_just_after_its_flight_is_cancelled_cancels_and_refunds_its_booking(
    customer, staff_user
):
    booking = held_booking(owner=customer, passengers=2)
    cancelling_flight = Gate()
    with flight_cancelled.subscribed(cancelling_flight), threads(2) as start:
        # given staff cancelling the flight, inside the cancel's transaction (the flight locked)
        cancelling = start(lambda: flight_cancel(flight_id=booking.flight_id, actor=staff_user))
        cancelling_flight.wait_reached()
        # when a payment of one of its bookings is charged and its settlement waits for the flight's lock
        paying = start(pay, authenticated_client(customer), payment_body(booking))
        session_waiting(FLIGHT_LOCK_WAIT, deadline_seconds=WAIT_SECONDS)
        cancelling_flight.open()
        assert cancelling.result(timeout=WAIT_SECONDS).status == Flight.Status.CANCELLED
        response = paying.result(timeout=WAIT_SECONDS)

    # then the settlement sees the cancelled flight: the booking is cancelled and the charge refunded
    assert (response.status_code, response.json()["code"]) == (409, "booking_expired")
    assert response.json()["detail"] == (
        "The flight was cancelled when the charge succeeded. The charge was refunded."
    )
    assert_cancelled_by_the_airline(booking, charged=True, staff_user=staff_user)


# Two refunds of one payment at once.


def summary(outcome: object) -> tuple[str, str]:
    """(class, status) of a returned booking or payment; (class, detail) of an error."""
    if isinstance(outcome, ApplicationError):
        return type(outcome).__name__, outcome.detail
    return type(outcome).__name__, outcome.status


@pytest.mark.parametrize(
    ("first", "second"),
    [("owner", "staff"), ("staff", "owner"), ("staff", "other staff")],
    ids=["owner-cancel-then-staff-refund", "staff-refund-then-owner-cancel", "two-staff-refunds"],
)
def test_two_refunds_of_one_payment_at_once_refund_it_once_and_cancel_its_booking_once(
    gateway, customer, staff_user, first, second
):
    # given a paid booking
    booking = held_booking(owner=customer, passengers=2)
    assert pay(authenticated_client(customer), payment_body(booking)).status_code == 201
    payment_id = Payment.objects.get().pk
    people = {"owner": customer, "staff": staff_user, "other staff": UserFactory(staff=True)}

    def refund_by(who: str):
        """The owner cancels the booking (and so refunds it); staff refund the payment (admin action)."""
        if who == "owner":
            return booking_cancel(booking=Booking.objects.get(pk=booking.pk), actor=customer)
        payment = Payment.objects.select_related("booking").get(pk=payment_id)
        return payment_refund(payment=payment, actor=people[who])

    # and both reaching the gateway's refund before either recorded it; the first then finishes first
    both_at_gateway, first_done = threading.Barrier(2), threading.Event()
    turn = threading.local()

    def at_gateway() -> None:
        both_at_gateway.wait(timeout=WAIT_SECONDS)
        if turn.second:
            assert first_done.wait(timeout=WAIT_SECONDS)

    def run(who: str, *, second: bool):
        turn.second = second
        try:
            return refund_by(who)
        except ApplicationError as error:
            return error
        finally:
            if not second:
                first_done.set()

    gateway.hooks = {"before_refund": at_gateway}
    with threads(2) as start:
        firsts = start(lambda: run(first, second=False))
        seconds = start(lambda: run(second, second=True))
        outcomes = [firsts.result(timeout=WAIT_SECONDS), seconds.result(timeout=WAIT_SECONDS)]

    # then the first refunded and cancelled; the second found it done (a staff refund answers with the
    # refunded payment, an owner's cancel that the booking is cancelled)
    refunded, cancelled = ("Payment", Payment.Status.REFUNDED), ("Booking", Booking.Status.CANCELLED)
    assert [summary(outcome) for outcome in outcomes] == [
        cancelled if first == "owner" else refunded,
        ("BookingNotCancellable", "The booking is cancelled.") if second == "owner" else refunded,
    ]
    # and the gateway was asked twice for the one refund, with its one key: the ledger shows one refund
    assert [call for call in gateway.calls if call[0] == "refund"] == [("refund", f"refund_{payment_id}")] * 2
    assert GatewayCharge.objects.get().status == GatewayCharge.Status.REFUNDED
    refund = Refund.objects.get()
    assert (refund.payment_id, Payment.objects.get().status) == (payment_id, Payment.Status.REFUNDED)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert_seats(booking, 0)
    assert outbox(booking.pk) == HELD_THEN_PAID + Counter({Kind.BOOKING_CANCELLED: 1})
    canceller = people[first]
    by_owner = canceller == customer
    assert audit(Subject.BOOKING, booking.reference) == Counter(
        {
            (Action.CREATED, customer.pk): 1,
            (Action.CANCELLED if by_owner else Action.STAFF_CANCELLED, canceller.pk): 1,
        }
    )
    assert audit(Subject.PAYMENT, payment_id) == Counter(
        {
            (Action.PAID, customer.pk): 1,
            (Action.REFUNDED if by_owner else Action.STAFF_REFUNDED, canceller.pk): 1,
        }
    )
