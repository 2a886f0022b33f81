import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.bookings.exceptions import FlightNotBookable, SeatUnavailable, SeatUnknown, SoldOut
from apps.bookings.models import REFERENCE_ALPHABET, Booking, Passenger, SeatAssignment
from apps.bookings.selectors import inventory_violations
from apps.bookings.services import booking_hold_create
from apps.bookings.tests.factories import booking_flight, hold, passengers
from apps.core.exceptions import ValidationFailed
from apps.flights.exceptions import FlightNotFound
from apps.flights.models import Flight

pytestmark = pytest.mark.django_db


def seats_of(booking: Booking) -> list[str]:
    return sorted(booking.seat_assignments.filter(active=True).values_list("seat_code", flat=True))


def test_hold_assigns_economy_seats_side_by_side_and_prices_them(strategy, customer, flight, published):
    # given a flight with business and economy seats, all free
    # when three passengers ask for no particular seats
    booking = hold(customer, flight, count=3)

    # then they sit side by side in one economy row, at the economy fare
    assignments = list(booking.seat_assignments.order_by("seat_code"))
    assert {a.cabin for a in assignments} == {"economy"}
    assert len({a.seat_code[:-1] for a in assignments}) == 1
    letters = "".join(a.seat_code[-1] for a in assignments)
    assert letters in "ABCDEF"
    assert booking.total_amount == Decimal("13500.00")
    assert booking.currency == "INR"
    assert booking.status == Booking.Status.HELD
    assert re.fullmatch(f"[{REFERENCE_ALPHABET}]{{6}}", booking.reference)
    expected_expiry = timezone.now() + timedelta(seconds=600)
    assert abs((booking.hold_expires_at - expected_expiry).total_seconds()) < 5
    assert list(booking.passengers.values_list("position", "first_name")) == [
        (1, "Pax1"),
        (2, "Pax2"),
        (3, "Pax3"),
    ]
    flight.refresh_from_db()
    assert flight.available_seats == 116 - 3
    assert flight.version == 1
    assert [name for name, _ in published] == ["booking.held"]
    assert published[0][1]["booking"].pk == booking.pk


def test_hold_of_requested_seats_charges_each_cabin_fare(strategy, customer, flight):
    booking = hold(customer, flight, count=2, seats=["1a", " 12C "])

    assert seats_of(booking) == ["12C", "1A"]
    assert booking.total_amount == Decimal("19500.00")  # business 15000 + economy 4500
    assert dict(booking.seat_assignments.values_list("seat_code", "fare")) == {
        "1A": Decimal("15000.00"),
        "12C": Decimal("4500.00"),
    }


def test_hold_uses_a_dearer_cabin_only_when_economy_is_full(strategy, customer):
    flight = booking_flight(rows=3, business_rows=2)  # 8 business seats, 6 economy
    hold(customer, flight, count=6)

    booking = hold(customer, flight, count=2)

    assert {a.cabin for a in booking.seat_assignments.all()} == {"business"}
    assert booking.total_amount == Decimal("30000.00")


def test_seats_are_never_assigned_in_a_cabin_without_a_fare(strategy, customer):
    flight = booking_flight(rows=3, business_rows=2, business_fare=None)
    hold(customer, flight, count=6)

    with pytest.raises(SoldOut):
        hold(customer, flight, count=1)
    with pytest.raises(SeatUnknown):
        hold(customer, flight, count=1, seats=["1A"])

    assert SeatAssignment.objects.filter(flight=flight).count() == 6


def test_released_seat_can_be_held_again(strategy, customer, flight):
    from apps.bookings.services import booking_cancel

    first = hold(customer, flight, seats=["12A"])
    booking_cancel(booking=first, actor=customer)

    again = hold(customer, flight, seats=["12A"])

    assert seats_of(again) == ["12A"]
    assert inventory_violations() == []


def test_taken_seat_is_refused_and_nothing_is_taken(strategy, customer, other_customer, flight):
    hold(customer, flight, seats=["12A"])

    with pytest.raises(SeatUnavailable) as raised:
        hold(other_customer, flight, count=2, seats=["12B", "12A"])

    assert raised.value.errors == {"seats": ["Seat 12A is taken."]}
    assert Booking.objects.filter(owner=other_customer).count() == 0
    assert not SeatAssignment.objects.filter(seat_code="12B").exists()
    flight.refresh_from_db()
    assert flight.available_seats == 115


def test_more_passengers_than_seats_left_is_sold_out(strategy, customer):
    flight = booking_flight(rows=1, letters="ABC")
    hold(customer, flight, count=2)

    with pytest.raises(SoldOut):
        hold(customer, flight, count=2)

    flight.refresh_from_db()
    assert flight.available_seats == 1
    assert SeatAssignment.objects.filter(flight=flight).count() == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"passengers": []}, ValidationFailed, "passengers"),
        ({"passengers": passengers(10)}, ValidationFailed, "passengers"),
        (
            {"passengers": [{"first_name": " ", "last_name": "Doe"}]},
            ValidationFailed,
            "passengers.0.first_name",
        ),
        ({"passengers": [{"first_name": "Jo", "last_name": ""}]}, ValidationFailed, "passengers.0.last_name"),
        ({"seats": ["12A", "12a"], "passengers": passengers(2)}, ValidationFailed, "seats"),
        ({"seats": ["12A"], "passengers": passengers(2)}, ValidationFailed, "seats"),
        ({"seats": ["99A"]}, SeatUnknown, "seats"),
        ({"seats": ["1B"]}, SeatUnknown, "seats"),  # business rows have no B seat in this layout
        ({"seats": ["12K"]}, SeatUnknown, "seats"),  # a seat of a wider airplane
    ],
)
def test_bad_hold_requests_are_refused_without_taking_a_seat(
    strategy, customer, flight, kwargs, error, field
):
    request = {"user": customer, "flight_id": flight.pk, "passengers": passengers(1)} | kwargs

    with pytest.raises(error) as raised:
        booking_hold_create(**request)

    assert field in raised.value.errors
    assert not Booking.objects.exists()
    assert not SeatAssignment.objects.exists()
    flight.refresh_from_db()
    assert (flight.available_seats, flight.version) == (116, 0)


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Flight.Status.CANCELLED},
        {"status": Flight.Status.DEPARTED},
        {"departure_time": timezone.now() - timedelta(hours=1)},
        {"departure_time": timezone.now() + timedelta(minutes=20)},
    ],
    ids=["cancelled", "departed", "in-the-past", "leaves-in-20-minutes"],
)
def test_flight_that_cannot_be_booked_is_refused(strategy, customer, fields):
    flight = booking_flight(rows=5, **fields)

    with pytest.raises(FlightNotBookable):
        hold(customer, flight)

    assert not SeatAssignment.objects.exists()
    flight.refresh_from_db()
    assert flight.available_seats == 30


def test_flight_leaving_in_just_over_the_minimum_can_be_booked(strategy, customer):
    flight = booking_flight(rows=5, departure_time=timezone.now() + timedelta(minutes=31))

    assert hold(customer, flight).status == Booking.Status.HELD


def test_unknown_flight_is_not_found(strategy, customer):
    with pytest.raises(FlightNotFound):
        booking_hold_create(user=customer, flight_id=987654, passengers=passengers(1))


def test_unique_key_errors_are_told_apart(customer, flight):
    # given real duplicate-key errors from the database for a reference and for an active seat
    from django.db import IntegrityError, transaction

    from apps.bookings.services.holds import _is_reference_collision, _is_seat_collision

    booking = hold(customer, flight, seats=["12A"])
    passenger = Passenger.objects.create(booking=booking, position=2, first_name="Second", last_name="Pax")
    errors = []
    for duplicate in (
        lambda: Booking.objects.create(
            reference=booking.reference,
            owner=customer,
            flight=flight,
            total_amount=1,
            currency="INR",
            hold_expires_at=timezone.now(),
        ),
        lambda: SeatAssignment.objects.create(
            flight=flight, booking=booking, passenger=passenger, seat_code="12A", cabin="economy", fare=1
        ),
    ):
        with pytest.raises(IntegrityError) as raised, transaction.atomic():
            duplicate()
        errors.append(raised.value)

    # then each is recognised for what it is
    reference_error, seat_error = errors
    assert _is_reference_collision(reference_error)
    assert not _is_seat_collision(reference_error)
    assert _is_seat_collision(seat_error)
    assert not _is_reference_collision(seat_error)


def test_pessimistic_hold_locks_the_flight_before_moving_its_counter(settings, customer, flight):
    settings.BOOKING_LOCK_STRATEGY = "pessimistic"

    with CaptureQueriesContext(connection) as captured:
        hold(customer, flight, count=2)

    statements = [query["sql"].replace("`", "") for query in captured.captured_queries]
    lock = next(i for i, sql in enumerate(statements) if "FROM flights_flight" in sql and "FOR UPDATE" in sql)
    update = next(i for i, sql in enumerate(statements) if sql.startswith("UPDATE flights_flight"))
    assert lock < update
    assert "available_seats = available_seats - 2" in statements[update]
    inserts = [i for i, sql in enumerate(statements) if sql.startswith("INSERT INTO bookings_")]
    assert lock < min(inserts)


def test_optimistic_hold_takes_no_lock_and_decrements_conditionally(settings, customer, flight):
    settings.BOOKING_LOCK_STRATEGY = "optimistic"

    with CaptureQueriesContext(connection) as captured:
        hold(customer, flight, count=2)

    statements = [query["sql"].replace("`", "") for query in captured.captured_queries]
    assert not any("FOR UPDATE" in sql for sql in statements)
    (update,) = [sql for sql in statements if sql.startswith("UPDATE flights_flight")]
    assert "available_seats >= 2" in update
    assert "available_seats = available_seats - 2" in update
    inserts = [i for i, sql in enumerate(statements) if sql.startswith("INSERT INTO bookings_")]
    assert statements.index(update) < min(inserts)
