from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.flights.seating import airplane_positions
from apps.flights.services.seats import flight_seats_take
from apps.flights.tests.factories import AirplaneFactory, FlightFactory

pytestmark = pytest.mark.django_db


def assign_seat(flight, seat_code: str, *, active: bool | None = True) -> None:
    """A seat assignment as the bookings app writes it (flights never imports bookings)."""
    booking = apps.get_model("bookings", "Booking").objects.create(
        reference=f"T{seat_code:0>5}"[-6:],
        owner=UserFactory(),
        flight=flight,
        total_amount=Decimal("1"),
        currency="INR",
        hold_expires_at=timezone.now() + timedelta(minutes=10),
    )
    passenger = apps.get_model("bookings", "Passenger").objects.create(
        booking=booking, position=1, first_name="Asha", last_name="Rao"
    )
    flight.seat_assignments.create(
        booking=booking,
        passenger=passenger,
        seat_code=seat_code,
        cabin="economy",
        fare=Decimal("1"),
        active=active,
    )
    if active:  # the bookings app takes the seat off the flight's inventory in the same transaction
        flight.refresh_from_db()
        flight_seats_take(flight=flight, positions=[airplane_positions(flight.airplane_id)[seat_code]])


def test_every_seat_with_cabin_fare_and_status(api_client):
    # given a 4-row airplane, business rows 1-2 (ACDF) and economy rows 3-4 (ABCDEF)
    flight = FlightFactory(
        airplane=AirplaneFactory(layout__rows=4, layout__business_rows=2),
        base_fare=Decimal("5000.00"),
        business_fare=Decimal("20000.00"),
    )
    assign_seat(flight, "3B")
    assign_seat(flight, "4F", active=None)  # released: available again

    # when
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(f"/api/v1/flights/{flight.pk}/seats")

    # then
    assert response.status_code == 200
    body = response.json()
    seats = {seat["code"]: seat for seat in body["seats"]}
    assert len(body["seats"]) == 8 + 12
    assert [seat["code"] for seat in body["seats"][:5]] == ["1A", "1C", "1D", "1F", "2A"]
    assert seats["1A"] == {
        "code": "1A",
        "row": 1,
        "letter": "A",
        "cabin": "business",
        "fare": "20000.00",
        "status": "available",
    }
    assert seats["3B"] == {
        "code": "3B",
        "row": 3,
        "letter": "B",
        "cabin": "economy",
        "fare": "5000.00",
        "status": "taken",
    }
    assert seats["4F"]["status"] == "available"
    assert [code for code, seat in seats.items() if seat["status"] == "taken"] == ["3B"]
    assert body["flight_id"] == flight.pk
    assert len(queries) <= 3


def test_seat_map_of_an_unknown_flight_is_a_404(api_client):
    response = api_client.get("/api/v1/flights/999999/seats")

    assert response.status_code == 404
    assert response.json()["code"] == "flight_not_found"
