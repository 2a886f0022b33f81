"""Bookings of several flights (return, multi-city): one hold, one payment, one cancel for them all."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from apps.bookings.exceptions import CheckInUnavailable, FlightNotBookable, SeatUnavailable, SoldOut
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.selectors import inventory_violations
from apps.bookings.services import (
    booking_cancel,
    booking_check_in,
    booking_hold_create,
    booking_holds_expire,
    booking_sale_open_ensure,
)
from apps.bookings.tests.factories import booking_flight, cancel_flight, hold, make_overdue, passengers
from apps.core.exceptions import ValidationFailed
from apps.flights.models import Flight
from apps.payments.models import Payment, Refund
from apps.payments.tests.factories import booking_paid

pytestmark = pytest.mark.django_db

NAMES = [{"first_name": "Asha", "last_name": "Rao"}]


def return_pair(*, days: int = 3, rows: int = 20, letters: str = "ABCDEF", back_after_hours: int = 48):
    """An outbound and a return on the reverse route, the return leaving `back_after_hours` later."""
    outbound = booking_flight(
        rows=rows,
        letters=letters,
        departure_time=timezone.now().replace(microsecond=0) + timedelta(days=days),
    )
    back = booking_flight(
        rows=rows,
        letters=letters,
        departure_airport=outbound.arrival_airport,
        arrival_airport=outbound.departure_airport,
        departure_time=outbound.departure_time + timedelta(hours=back_after_hours),
    )
    back.refresh_from_db()
    return outbound, back


def journey(user, flights, count: int = 1, seats: list[list[str]] | None = None) -> Booking:
    segments = [
        {"flight_id": flight.pk, **({"seats": seats[index]} if seats else {})}
        for index, flight in enumerate(flights)
    ]
    return booking_hold_create(user=user, passengers=passengers(count), segments=segments)


def available(flight: Flight) -> int:
    flight.refresh_from_db()
    return flight.available_seats


def test_a_return_trip_holds_a_seat_for_each_passenger_on_each_flight_in_one_booking(strategy, customer):
    outbound, back = return_pair()

    booking = journey(customer, [outbound, back], count=2, seats=[["3A", "3B"], ["7C", "7D"]])

    booking.refresh_from_db()
    assert booking.segment_count == 2
    assert booking.flight_id == outbound.pk
    seats = set(
        SeatAssignment.objects.filter(booking=booking).values_list("segment", "flight_id", "seat_code")
    )
    assert seats == {
        (1, outbound.pk, "3A"),
        (1, outbound.pk, "3B"),
        (2, back.pk, "7C"),
        (2, back.pk, "7D"),
    }
    assert booking.total_amount == 2 * outbound.base_fare + 2 * back.base_fare
    assert (available(outbound), available(back)) == (118, 118)
    assert inventory_violations() == []


def test_a_multi_city_trip_of_four_flights_may_start_each_flight_elsewhere(strategy, customer):
    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    flights = [booking_flight(rows=5, departure_time=start + timedelta(days=day)) for day in range(4)]

    booking = journey(customer, flights)

    assert booking.segment_count == 4
    assert [flight.pk for flight in booking.segment_flights] == [flight.pk for flight in flights]
    assert [available(flight) for flight in flights] == [29, 29, 29, 29]


@pytest.mark.parametrize("full", [0, 1])
def test_when_one_flight_is_sold_out_nothing_is_held_and_the_answer_names_it(strategy, customer, full):
    outbound, back = return_pair(rows=1, letters="AB")
    full_flight = (outbound, back)[full]
    hold(customer, full_flight, count=2)

    with pytest.raises(SoldOut) as refused:
        journey(customer, [outbound, back])

    assert refused.value.detail.startswith(f"Flight {full + 1} ({full_flight.flight_number}):")
    assert Booking.objects.filter(segment_count=2).count() == 0
    assert SeatAssignment.objects.filter(active=True).count() == 2
    assert (available(outbound), available(back)) == ((0, 2) if full == 0 else (2, 0))
    assert inventory_violations() == []


def test_a_taken_seat_on_the_second_flight_holds_nothing_on_the_first(strategy, customer, other_customer):
    outbound, back = return_pair()
    hold(other_customer, back, seats=["7C"])

    with pytest.raises(SeatUnavailable) as refused:
        journey(customer, [outbound, back], seats=[["3A"], ["7C"]])

    assert refused.value.errors == {"segments.1.seats": ["Seat 7C is taken."]}
    assert not SeatAssignment.objects.filter(flight=outbound).exists()
    assert available(outbound) == 120


@pytest.mark.parametrize(
    ("shape", "field"),
    [
        ("connection_too_short", "segments.1"),
        ("same_flight_twice", "segments"),
        ("five_flights", "segments"),
        ("other_currency", "segments"),
        ("before_the_previous", "segments.1"),
    ],
)
def test_an_implausible_journey_is_refused_with_the_field_named(customer, shape, field):
    outbound, back = return_pair(back_after_hours=48)
    if shape == "connection_too_short":
        # lands 2 h 10 min after it leaves; leaving 2 h 40 min after it leaves is a 30-minute connection
        Flight.objects.filter(pk=back.pk).update(
            departure_time=outbound.departure_time + timedelta(minutes=160),
            arrival_time=outbound.departure_time + timedelta(minutes=300),
        )
        flights = [outbound, back]
    elif shape == "same_flight_twice":
        flights = [outbound, outbound]
    elif shape == "five_flights":
        flights = [outbound, back, *(booking_flight(rows=2) for _ in range(3))]
    elif shape == "other_currency":
        Flight.objects.filter(pk=back.pk).update(currency="USD")
        flights = [outbound, back]
    else:
        flights = [back, outbound]

    with pytest.raises(ValidationFailed) as refused:
        journey(customer, flights)

    assert field in refused.value.errors
    assert not Booking.objects.exists()
    assert (available(outbound), available(back)) == (120, 120)


def test_a_connection_of_exactly_the_minimum_is_accepted(customer, settings):
    settings.JOURNEY_MIN_CONNECTION_MINUTES = 45
    outbound, back = return_pair()
    Flight.objects.filter(pk=back.pk).update(
        departure_time=outbound.arrival_time + timedelta(minutes=45),
        arrival_time=outbound.arrival_time + timedelta(minutes=200),
    )

    assert journey(customer, [outbound, back]).segment_count == 2


def test_one_payment_confirms_the_journey_and_cancelling_refunds_it_once_and_frees_every_seat(customer):
    outbound, back = return_pair()
    booking = booking_paid(journey(customer, [outbound, back], count=2))
    assert booking.status == Booking.Status.CONFIRMED
    assert Payment.objects.filter(booking=booking, status=Payment.Status.SUCCEEDED).count() == 1

    cancelled = booking_cancel(booking=booking, actor=customer)

    assert cancelled.status == Booking.Status.CANCELLED
    refunds = Refund.objects.filter(payment__booking=booking)
    assert [refund.amount for refund in refunds] == [booking.total_amount]
    assert not SeatAssignment.objects.filter(booking=booking, active=True).exists()
    assert (available(outbound), available(back)) == (120, 120)
    call_command("check_inventory")


def test_an_expired_journey_hold_gives_back_its_seats_on_every_flight(strategy, customer):
    outbound, back = return_pair()
    one_way = hold(customer, outbound, count=1)
    booking = journey(customer, [outbound, back], count=3)
    make_overdue(booking)
    make_overdue(one_way)

    assert booking_holds_expire() == 2

    booking.refresh_from_db()
    assert booking.status == Booking.Status.EXPIRED
    assert (available(outbound), available(back)) == (120, 120)
    assert booking_holds_expire() == 0
    assert inventory_violations() == []


def test_the_airline_cancelling_the_return_flight_cancels_and_refunds_the_whole_journey(customer, staff_user):
    outbound, back = return_pair()
    booking = booking_paid(journey(customer, [outbound, back], count=2))
    mail.outbox.clear()

    cancel_flight(back, staff_user)

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert Refund.objects.filter(payment__booking=booking).count() == 1
    assert (available(outbound), available(back)) == (120, 120)
    assert inventory_violations() == []


def test_a_journey_is_not_payable_once_one_of_its_flights_is_cancelled(customer, staff_user):
    outbound, back = return_pair()
    booking = journey(customer, [outbound, back])
    Flight.objects.filter(pk=back.pk).update(status=Flight.Status.CANCELLED)

    with pytest.raises(FlightNotBookable) as refused:
        booking_sale_open_ensure(booking=booking, now=timezone.now())
    assert back.flight_number in refused.value.detail


def test_each_flight_of_a_journey_is_checked_in_in_its_own_window(customer, settings):
    settings.CHECK_IN_OPENS_HOURS = 48
    outbound, back = return_pair(days=1, back_after_hours=72)
    booking = booking_paid(journey(customer, [outbound, back], count=2))

    booking_check_in(booking=booking, actor=customer, passenger_positions=[1, 2], segment=1)

    numbers = sorted(SeatAssignment.objects.filter(booking=booking).values_list("segment", "check_in_number"))
    assert numbers == [(1, 1), (1, 2), (2, None), (2, None)]
    with pytest.raises(CheckInUnavailable):
        booking_check_in(booking=booking, actor=customer, passenger_positions=[1], segment=2)
    with pytest.raises(ValidationFailed):
        booking_check_in(booking=booking, actor=customer, passenger_positions=[1], segment=3)


def test_the_api_holds_a_return_trip_and_answers_every_segment(customer_client):
    outbound, back = return_pair()

    answer = customer_client.post(
        "/api/v1/bookings",
        {
            "segments": [{"flight_id": outbound.pk, "seats": ["4A"]}, {"flight_id": back.pk}],
            "passengers": [{"first_name": "Asha", "last_name": "Rao"}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="journey-1",
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert [segment["flight"]["id"] for segment in body["segments"]] == [outbound.pk, back.pk]
    assert body["segments"][0]["seats"] == ["4A"]
    assert body["flight"]["id"] == outbound.pk
    assert Decimal(body["total_amount"]) == outbound.base_fare + back.base_fare
    again = customer_client.get(f"/api/v1/bookings/{body['reference']}").json()
    assert again["segments"] == body["segments"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"segments": [], "passengers": NAMES},
            "segments.non_field_errors",
        ),
        (
            {"segments": [{"flight_id": "x"}], "passengers": NAMES},
            "segments.0.flight_id",
        ),
        ({"segments": [{"flight_id": 1}], "flight_id": 1, "passengers": []}, "segments"),
        (
            {"segments": "BOM", "passengers": NAMES},
            "segments.non_field_errors",
        ),
    ],
)
def test_a_malformed_journey_is_a_400_naming_the_field(customer_client, body, field):
    answer = customer_client.post("/api/v1/bookings", body, format="json", HTTP_IDEMPOTENCY_KEY="journey-bad")

    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("application/problem+json")
    assert field in answer.json()["errors"]
    assert not Booking.objects.exists()
