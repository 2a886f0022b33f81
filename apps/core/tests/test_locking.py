"""The one locking helper: only inside a locked transaction, by primary key, in the declared order."""

import pytest

from apps.bookings.models import Booking
from apps.bookings.tests.factories import booking_flight, hold
from apps.core.locking import LOCK_ORDER, LockOrderViolation, lock_row, lock_rows, locked_transaction
from apps.flights.models import Airport, Flight
from apps.payments.models import Payment

pytestmark = pytest.mark.django_db


def test_rows_are_locked_only_inside_a_locked_transaction(customer):
    flight = booking_flight(rows=2)

    with pytest.raises(LockOrderViolation, match="inside locked_transaction"):
        lock_rows(Flight.objects.filter(pk=flight.pk))

    with locked_transaction():
        assert lock_row(Flight.objects.filter(pk=flight.pk)) == flight


def test_locks_follow_the_declared_order_and_refuse_to_go_back(customer):
    flight = booking_flight(rows=2)
    booking = hold(customer, flight)

    with locked_transaction():
        lock_row(Flight.objects.filter(pk=flight.pk))
        lock_row(Booking.objects.filter(pk=booking.pk))
        lock_rows(Payment.objects.filter(booking=booking))  # a later kind may follow

    with locked_transaction():
        lock_row(Booking.objects.filter(pk=booking.pk))
        with pytest.raises(LockOrderViolation, match="flights.flight locked after bookings.booking"):
            lock_row(Flight.objects.filter(pk=flight.pk))

    # each transaction starts its own order: the flight may be locked again after the one above
    with locked_transaction():
        lock_row(Flight.objects.filter(pk=flight.pk))


def test_a_model_outside_the_order_or_another_ordering_is_refused(customer):
    flight = booking_flight(rows=2)

    with locked_transaction():
        with pytest.raises(LockOrderViolation, match="no place in LOCK_ORDER"):
            lock_rows(Airport.objects.all())
        with pytest.raises(LockOrderViolation, match="primary key"):
            lock_rows(Flight.objects.order_by("-departure_time"))
        with pytest.raises(LockOrderViolation, match="sliced"):
            lock_rows(Flight.objects.all()[:1])
        assert lock_rows(Flight.objects.filter(pk=flight.pk).order_by("pk")[:1]) == [flight]
    assert LOCK_ORDER.index("flights.flight") < LOCK_ORDER.index("bookings.booking")
