import threading

import pytest
from django.db import connection, transaction

from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.selectors import inventory_violations
from apps.bookings.services import booking_cancel, booking_holds_expire
from apps.bookings.tasks import expire_holds_task
from apps.bookings.tests.factories import booking_flight, hold, make_overdue, make_status
from apps.bookings.tests.racing import outcome_counts, race

pytestmark = pytest.mark.django_db


def test_overdue_holds_expire_and_give_their_seats_back(customer, flight, published):
    overdue = hold(customer, flight, count=2)
    make_overdue(overdue)
    current = hold(customer, flight, count=1)
    published.clear()

    assert booking_holds_expire() == 1

    overdue.refresh_from_db()
    assert overdue.status == Booking.Status.EXPIRED
    assert overdue.expired_at is not None
    assert Booking.objects.get(pk=current.pk).status == Booking.Status.HELD
    flight.refresh_from_db()
    assert flight.available_seats == 115
    assert not SeatAssignment.objects.filter(booking=overdue, active=True).exists()
    assert [(name, payload["booking"].pk) for name, payload in published] == [("booking.expired", overdue.pk)]
    assert booking_holds_expire() == 0


def test_expiry_leaves_bookings_being_paid_or_confirmed_alone(customer, flight):
    paying = hold(customer, flight)
    confirmed = hold(customer, flight)
    for booking, status in ((paying, Booking.Status.PAYING), (confirmed, Booking.Status.CONFIRMED)):
        make_overdue(booking)
        make_status(booking, status)

    assert booking_holds_expire() == 0

    assert Booking.objects.get(pk=paying.pk).status == Booking.Status.PAYING
    assert Booking.objects.get(pk=confirmed.pk).status == Booking.Status.CONFIRMED
    flight.refresh_from_db()
    assert flight.available_seats == 114


def test_expiry_works_through_every_batch_of_every_flight(customer):
    flights = [booking_flight(rows=5), booking_flight(rows=5)]
    for flight in flights:
        for _ in range(5):
            make_overdue(hold(customer, flight))

    assert booking_holds_expire(batch_size=2) == 10

    assert set(Booking.objects.values_list("status", flat=True)) == {Booking.Status.EXPIRED}
    assert inventory_violations() == []


def test_expire_holds_task_runs_the_sweeper(customer, flight):
    make_overdue(hold(customer, flight, count=2))

    assert expire_holds_task.name == "apps.bookings.tasks.expire_holds_task"
    assert expire_holds_task.apply().get() == 1
    flight.refresh_from_db()
    assert flight.available_seats == 116


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_sweepers_racing_each_other_and_cancels_release_each_seat_once(customer):
    # given 40 overdue holds on two flights
    flights = [booking_flight(rows=10), booking_flight(rows=10)]
    bookings = [hold(customer, flight, count=2) for flight in flights for _ in range(20)]
    for booking in bookings:
        make_overdue(booking)

    # when four sweepers and a cancel of every booking race
    sweeps = [lambda: booking_holds_expire(batch_size=5)] * 4
    cancels = [
        lambda booking=booking: booking_cancel(booking=booking, actor=customer) for booking in bookings
    ]
    results = race(sweeps + cancels, workers=16)

    # then every booking ended exactly once, by a sweeper or by its cancel, and each seat came back once
    expired_by_sweepers = sum(result for result in results[:4])
    cancel_outcomes = outcome_counts(results[4:])
    assert set(cancel_outcomes) <= {"ok", "booking_not_cancellable"}
    assert expired_by_sweepers + cancel_outcomes["ok"] == 40
    assert Booking.objects.filter(status=Booking.Status.EXPIRED).count() == expired_by_sweepers
    assert Booking.objects.filter(status=Booking.Status.CANCELLED).count() == cancel_outcomes["ok"]
    assert not SeatAssignment.objects.filter(active=True).exists()
    for flight in flights:
        flight.refresh_from_db()
        assert flight.available_seats == 60
    assert inventory_violations() == []


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_sweeper_skips_a_booking_locked_by_a_payment(customer, flight):
    # given an overdue hold whose row a payment has locked (marking it paying)
    booking = hold(customer, flight)
    make_overdue(booking)
    other = hold(customer, flight)
    make_overdue(other)
    locked, release = threading.Event(), threading.Event()

    def payment_marking_paying() -> None:
        try:
            with transaction.atomic():
                Booking.objects.select_for_update().get(pk=booking.pk)
                locked.set()
                release.wait(timeout=10)
                Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.PAYING)
        finally:
            connection.close()

    payer = threading.Thread(target=payment_marking_paying)
    payer.start()
    assert locked.wait(timeout=10)

    # when the sweeper runs meanwhile
    (expired,) = race([booking_holds_expire], workers=1)
    release.set()
    payer.join(timeout=10)

    # then it expired the other hold without waiting, and left the one being paid
    assert expired == 1
    assert Booking.objects.get(pk=other.pk).status == Booking.Status.EXPIRED
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.PAYING
    assert SeatAssignment.objects.filter(booking=booking, active=True).count() == 1
    assert inventory_violations() == []
