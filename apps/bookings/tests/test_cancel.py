import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.tests.factories import with_permissions
from apps.bookings.exceptions import (
    BookingNotCancellable,
    BookingNotFound,
    FlightNotBookable,
    PaymentInProgress,
    RefundFailed,
    RefundUnavailable,
)
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.selectors import inventory_violations
from apps.bookings.services import (
    booking_cancel,
    cancellation,
    cancelled_flights_finish,
    register_refund_handler,
)
from apps.bookings.tests.factories import cancel_flight, hold, make_status
from apps.bookings.tests.racing import race
from apps.core.exceptions import PermissionDenied
from apps.core.models import AuditEvent
from apps.flights.exceptions import FlightNotCancellable
from apps.flights.models import Flight
from apps.flights.services import flight_cancel

pytestmark = pytest.mark.django_db


@pytest.fixture
def refunds(monkeypatch) -> list[str]:
    """A refund handler that succeeds and records which bookings it refunded."""
    refunded: list[str] = []
    monkeypatch.setattr(cancellation, "_refund_handler", None)

    def refund(booking: Booking, actor: User, amount: Decimal) -> bool:
        refunded.append(booking.reference)
        return True

    register_refund_handler(refund)
    return refunded


@pytest.fixture
def no_refund_handler(monkeypatch) -> None:
    monkeypatch.setattr(cancellation, "_refund_handler", None)


def available(flight: Flight) -> int:
    flight.refresh_from_db()
    return flight.available_seats


def test_cancelling_a_hold_gives_its_seats_back(strategy, customer, flight, published):
    booking = hold(customer, flight, count=2, seats=["12A", "12B"])

    cancelled = booking_cancel(booking=booking, actor=customer)

    assert cancelled.status == Booking.Status.CANCELLED
    assert cancelled.cancelled_at is not None
    assert available(flight) == 116
    assert not SeatAssignment.objects.filter(booking=booking, active=True).exists()
    assert SeatAssignment.objects.filter(booking=booking, released_at__isnull=False).count() == 2
    assert published[-1] == (
        "booking.cancelled",
        {"booking": cancelled, "refunded": False, "by_airline": False, "refund_amount": None},
    )
    assert inventory_violations() == []


def test_cancelling_twice_releases_the_seats_once(customer, flight):
    booking = hold(customer, flight, count=2)
    booking_cancel(booking=booking, actor=customer)

    with pytest.raises(BookingNotCancellable):
        booking_cancel(booking=booking, actor=customer)

    assert available(flight) == 116


def test_expired_booking_cannot_be_cancelled(customer, flight):
    booking = hold(customer, flight)
    make_status(booking, Booking.Status.EXPIRED)

    with pytest.raises(BookingNotCancellable):
        booking_cancel(booking=booking, actor=customer)


def test_booking_being_paid_cannot_be_cancelled(customer, flight, refunds):
    booking = hold(customer, flight)
    make_status(booking, Booking.Status.PAYING)

    with pytest.raises(PaymentInProgress) as raised:
        booking_cancel(booking=booking, actor=customer)

    assert raised.value.retry_after == 5
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.PAYING
    assert available(flight) == 115
    assert refunds == []


def test_confirmed_booking_is_refunded_then_cancelled(customer, flight, refunds, published):
    booking = hold(customer, flight, count=3)
    make_status(booking, Booking.Status.CONFIRMED)

    cancelled = booking_cancel(booking=booking, actor=customer)

    assert refunds == [booking.reference]
    assert cancelled.status == Booking.Status.CANCELLED
    assert available(flight) == 116
    assert published[-1] == (
        "booking.cancelled",
        {"booking": cancelled, "refunded": True, "by_airline": False, "refund_amount": Decimal("0")},
    )


def test_confirmed_booking_without_a_refund_handler_stays_confirmed(customer, flight, no_refund_handler):
    booking = hold(customer, flight)
    make_status(booking, Booking.Status.CONFIRMED)

    with pytest.raises(RefundUnavailable):
        booking_cancel(booking=booking, actor=customer)

    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    assert available(flight) == 115


def test_failed_refund_leaves_the_booking_confirmed(customer, flight, monkeypatch):
    monkeypatch.setattr(cancellation, "_refund_handler", lambda booking, actor, amount: False)
    booking = hold(customer, flight)
    make_status(booking, Booking.Status.CONFIRMED)

    with pytest.raises(RefundFailed):
        booking_cancel(booking=booking, actor=customer)

    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    assert available(flight) == 115


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_booking_paid_while_its_cancel_waits_for_the_lock_is_refunded_first(customer, flight, refunds):
    # given a cancel that has read the booking as HELD and waits for the flight lock, while the
    # booking gets paid (the lock holder confirms it, as a payment finishing would)
    booking = hold(customer, flight)
    locked, release = threading.Event(), threading.Event()
    cancel_connection: list[int] = []

    def lock_holder_confirming_the_booking() -> None:
        try:
            with transaction.atomic():
                Flight.objects.select_for_update().get(pk=flight.pk)
                locked.set()
                release.wait(timeout=10)
                make_status(booking, Booking.Status.CONFIRMED)
        finally:
            connection.close()

    def cancel() -> Booking:
        cancel_connection.append(_connection_id())
        return booking_cancel(booking=booking, actor=customer)

    with ThreadPoolExecutor(max_workers=2) as pool:
        holder = pool.submit(lock_holder_confirming_the_booking)
        assert locked.wait(timeout=10)
        cancelling = pool.submit(lambda: race([cancel], workers=1)[0])
        _wait_for_lock_wait(cancel_connection)
        release.set()
        holder.result(timeout=10)
        cancelled = cancelling.result(timeout=10)

    # then the cancel notices the payment under the lock, refunds it and only then cancels
    assert isinstance(cancelled, Booking), cancelled
    assert refunds == [booking.reference]
    assert cancelled.status == Booking.Status.CANCELLED
    assert available(flight) == 116


def _connection_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT CONNECTION_ID()")
        return cursor.fetchone()[0]


def _wait_for_lock_wait(connection_ids: list[int], timeout: float = 5.0) -> None:
    """Block until the given connection is inside a SELECT … FOR UPDATE (observed, not guessed).

    The lock it asks for is held by the test, so a statement seen in flight is waiting for it.
    (MariaDB lists a transaction waiting during the optimizer's const-row read in the process
    list, not always in INNODB_TRX.)
    """
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            if connection_ids:
                cursor.execute(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE id = %s AND info LIKE %s",
                    [connection_ids[0], "%FOR UPDATE%"],
                )
                if cursor.fetchone()[0]:
                    return
            time.sleep(0.005)
    raise AssertionError("the cancel never waited for the flight lock")


def test_someone_elses_booking_cannot_be_cancelled(customer, other_customer, flight):
    booking = hold(customer, flight)

    with pytest.raises(BookingNotFound):
        booking_cancel(booking=booking, actor=other_customer)

    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD


def test_staff_can_cancel_a_customers_booking(customer, staff_user, flight):
    booking = hold(customer, flight)

    assert booking_cancel(booking=booking, actor=staff_user).status == Booking.Status.CANCELLED


@pytest.mark.parametrize(
    ("granted", "refusal"),
    [((), BookingNotFound), (("bookings.view_booking",), PermissionDenied)],
    ids=["no permission: as a customer", "view only"],
)
def test_staff_without_change_booking_cannot_cancel_a_customers_booking(
    customer, bare_staff_user, flight, granted, refusal
):
    # given a customer's hold, and a staff user without bookings.change_booking
    booking = hold(customer, flight, count=2)
    actor = with_permissions(bare_staff_user, *granted)

    # when they cancel it, then it is refused: not found unless they may see it, else forbidden
    with pytest.raises(refusal):
        booking_cancel(booking=booking, actor=actor)

    # and the booking keeps its seats
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD
    assert available(flight) == 114


def test_flight_cancel_cancels_and_refunds_every_active_booking(
    customer, other_customer, staff_user, flight, refunds, published
):
    held = hold(customer, flight, count=2)
    confirmed = hold(other_customer, flight, count=1)
    make_status(confirmed, Booking.Status.CONFIRMED)
    already = hold(customer, flight)
    booking_cancel(booking=already, actor=customer)
    published.clear()

    cancel_flight(flight, staff_user)

    flight.refresh_from_db()
    assert flight.status == Flight.Status.CANCELLED
    assert flight.available_seats == 116
    assert set(Booking.objects.values_list("status", flat=True)) == {Booking.Status.CANCELLED}
    assert refunds == [confirmed.reference]
    assert sorted((p["booking"].pk, p["refunded"], p["by_airline"]) for _, p in published) == [
        (held.pk, False, True),
        (confirmed.pk, True, True),
    ]
    with pytest.raises(FlightNotBookable):
        hold(customer, flight)


def test_flight_cancel_twice_is_harmless(customer, staff_user, flight, refunds, published):
    hold(customer, flight)
    cancel_flight(flight, staff_user)
    published.clear()

    cancel_flight(flight, staff_user)

    assert published == []
    assert cancelled_flights_finish() == 0
    assert available(flight) == 116


def test_a_booking_confirmed_after_its_flight_was_cancelled_is_finished_by_the_periodic_job(
    customer, staff_user, flight, refunds
):
    paying = hold(customer, flight)
    make_status(paying, Booking.Status.PAYING)
    held = hold(customer, flight)

    cancel_flight(flight, staff_user)

    assert Booking.objects.get(pk=paying.pk).status == Booking.Status.PAYING
    assert Booking.objects.get(pk=held.pk).status == Booking.Status.CANCELLED
    make_status(paying, Booking.Status.CONFIRMED)  # its payment confirmed it, behind the flight's back
    assert cancelled_flights_finish() == 1
    assert Booking.objects.get(pk=paying.pk).status == Booking.Status.CANCELLED
    assert refunds == [paying.reference]
    assert available(flight) == 116


def test_only_staff_cancel_flights(customer, flight):
    with pytest.raises(PermissionDenied):
        flight_cancel(flight_id=flight.pk, actor=customer)

    flight.refresh_from_db()
    assert flight.status == Flight.Status.SCHEDULED


@pytest.mark.parametrize(
    "granted",
    [(), ("flights.change_flight",), ("bookings.change_booking",)],
    ids=["no permission", "change_flight only", "change_booking only"],
)
def test_cancelling_a_flight_needs_both_change_flight_and_change_booking(
    customer, bare_staff_user, flight, granted
):
    # given a flight with a hold, and a staff user without one or both of the grants the admin's
    # cancel action asks for (a flight's cancel cancels its bookings too)
    booking = hold(customer, flight)
    actor = with_permissions(bare_staff_user, *granted)

    # when they cancel the flight, then they are refused
    with pytest.raises(PermissionDenied):
        flight_cancel(flight_id=flight.pk, actor=actor)

    # and the flight, its booking and the audit trail are as they were
    flight.refresh_from_db()
    assert flight.status == Flight.Status.SCHEDULED
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.FLIGHT_CANCELLED).exists()


def test_staff_holding_change_flight_and_change_booking_cancel_a_flight(bare_staff_user, flight):
    actor = with_permissions(bare_staff_user, "flights.change_flight", "bookings.change_booking")

    assert flight_cancel(flight_id=flight.pk, actor=actor).status == Flight.Status.CANCELLED


def test_departed_flight_cannot_be_cancelled(staff_user, flight):
    Flight.objects.filter(pk=flight.pk).update(status=Flight.Status.DEPARTED)

    with pytest.raises(FlightNotCancellable):
        flight_cancel(flight_id=flight.pk, actor=staff_user)


def test_a_cancelled_flight_leaves_search_results_at_once(
    staff_user, flight, api_client, django_capture_on_commit_callbacks
):
    route = {"trips": f"{flight.departure_airport.iata_code}-{flight.arrival_airport.iata_code}"}
    before = api_client.get("/api/v1/flights", route)

    with django_capture_on_commit_callbacks(execute=True):
        flight_cancel(flight_id=flight.pk, actor=staff_user)
    after = api_client.get("/api/v1/flights", route)

    assert [result["id"] for result in before.json()["results"]] == [flight.pk]
    assert after.json()["results"] == []


@pytest.mark.parametrize("departed_by", ["status", "clock"])
def test_a_booking_cannot_be_cancelled_or_refunded_once_its_flight_has_left(
    customer, flight, refunds, departed_by
):
    booking = hold(customer, flight, count=2)
    make_status(booking, Booking.Status.CONFIRMED)
    if departed_by == "status":
        Flight.objects.filter(pk=flight.pk).update(status=Flight.Status.DEPARTED)
    else:
        Flight.objects.filter(pk=flight.pk).update(
            departure_time=timezone.now() - timedelta(minutes=5),
            arrival_time=timezone.now() + timedelta(hours=2),
        )

    with pytest.raises(BookingNotCancellable):
        booking_cancel(booking=booking, actor=customer)

    assert refunds == []
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    assert available(flight) == flight.total_seats - 2


@pytest.mark.parametrize("flight_cancelled", [False, True])
def test_a_refunded_confirmed_booking_is_cancelled_without_another_refund(
    customer, flight, refunds, published, flight_cancelled
):
    # given a confirmed booking whose payment was refunded but whose cancel did not commit
    booking = hold(customer, flight, count=2)
    make_status(booking, Booking.Status.CONFIRMED)
    if flight_cancelled:
        Flight.objects.filter(pk=flight.pk).update(status=Flight.Status.CANCELLED)

    # when the system finishes the cancel
    cancelled = cancellation.booking_cancel_after_refund(booking=booking)

    # then it is cancelled as refunded with its seats back, and the refund handler is not called again
    assert cancelled.status == Booking.Status.CANCELLED
    assert available(flight) == 116
    assert refunds == []
    assert published[-1] == (
        "booking.cancelled",
        {"booking": cancelled, "refunded": True, "by_airline": flight_cancelled, "refund_amount": None},
    )
    with pytest.raises(BookingNotCancellable):
        cancellation.booking_cancel_after_refund(booking=booking)
