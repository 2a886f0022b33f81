"""Holding seats in a chosen fare family, and the price breakdown each seat stores (docs/FARES.md)."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.pricing import price_breakdown, seat_taxes
from apps.bookings.services import booking_hold_create
from apps.bookings.tests.factories import booking_flight, passengers
from apps.core.exceptions import ValidationFailed
from apps.flights.models import Flight
from apps.flights.tests.factories import AirportFactory, flight_with_families

pytestmark = pytest.mark.django_db

URL = "/api/v1/bookings"


def family_flight(**fields) -> Flight:
    """Two business rows (ACDF) and eight economy rows (ABCDEF), departing from an airport that
    charges a ₹620 user development fee, selling Economy Saver 4500, Flex 6200, Business Flex 15000."""
    airport = AirportFactory(
        departure_charge_name="User development fee",
        departure_charge=Decimal("620.00"),
        departure_charge_currency="INR",
    )
    return flight_with_families(booking_flight(rows=10, business_rows=2, departure_airport=airport, **fields))


def keyed_post(client, body):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)


def test_a_hold_in_a_family_takes_seats_in_its_cabin_at_its_price_and_stores_the_breakdown(
    customer, settings
):
    settings.FARE_TAX_PERCENT = {"economy": "5", "business": "12"}
    flight = family_flight()

    booking = booking_hold_create(
        user=customer, flight_id=flight.pk, passengers=passengers(2), fare_family="ECO_FLEX"
    )

    seats = list(SeatAssignment.objects.filter(booking=booking).order_by("passenger__position"))
    assert [(seat.cabin, seat.fare_family, seat.fare) for seat in seats] == [
        ("economy", "ECO_FLEX", Decimal("6200.00")),
        ("economy", "ECO_FLEX", Decimal("6200.00")),
    ]
    # 6200 - 620 = 5580 = base × 1.05 → base 5314.29, GST 265.71
    assert seats[0].base_fare == Decimal("5314.29")
    assert seats[0].taxes == [
        {"code": "GST", "name": "GST", "amount": "265.71"},
        {"code": "AIRPORT", "name": "User development fee", "amount": "620.00"},
    ]
    assert seat_taxes(seats[0]) == Decimal("885.71")
    booking.refresh_from_db()
    assert booking.total_amount == Decimal("12400.00")
    breakdown = price_breakdown(seats)
    assert (breakdown.base_fare, breakdown.total) == (Decimal("10628.58"), Decimal("12400.00"))
    assert [(tax.name, tax.amount) for tax in breakdown.taxes] == [
        ("GST", Decimal("531.42")),
        ("User development fee", Decimal("1240.00")),
    ]


def test_a_hold_without_a_family_is_sold_as_its_cabins_cheapest_family(customer):
    flight = family_flight()

    booking = booking_hold_create(user=customer, flight_id=flight.pk, passengers=passengers(1), seats=["1A"])

    seat = SeatAssignment.objects.get(booking=booking)
    assert (seat.cabin, seat.fare_family, seat.fare) == ("business", "BUS_FLEX", Decimal("15000.00"))


def test_a_business_family_refuses_an_economy_seat_and_holds_nothing(customer):
    flight = family_flight()

    with pytest.raises(ValidationFailed) as refused:
        booking_hold_create(
            user=customer, flight_id=flight.pk, passengers=passengers(1), seats=["5A"], fare_family="BUS_FLEX"
        )

    assert list(refused.value.errors) == ["seats"]
    assert not Booking.objects.exists()


def test_the_api_holds_a_family_per_segment_and_shows_the_breakdown(customer_client, settings):
    settings.FARE_TAX_PERCENT = {"economy": "5", "business": "12"}
    first = family_flight()
    second = family_flight(
        departure_time=first.arrival_time + (first.arrival_time - first.departure_time) * 2
    )

    response = keyed_post(
        customer_client,
        {
            "segments": [
                {"flight_id": first.pk, "fare_family": "BUS_FLEX"},
                {"flight_id": second.pk, "fare_family": "ECO_SAVER"},
            ],
            "passengers": passengers(1),
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    # Business: 15000 - 620 = 14380 / 1.12 → 12839.29 + GST 1540.71; saver: 3695.24 + GST 184.76.
    assert body["total_amount"] == "19500.00"
    assert body["price"] == {
        "base_fare": "16534.53",
        "taxes": [
            {"code": "GST", "name": "GST", "amount": "1725.47"},
            {"code": "AIRPORT", "name": "User development fee", "amount": "1240.00"},
        ],
        "total": "19500.00",
    }
    detail = customer_client.get(f"{URL}/{body['reference']}").json()
    assert detail["price"] == body["price"]
    families = SeatAssignment.objects.order_by("segment").values_list("segment", "cabin", "fare_family")
    assert list(families) == [(1, "business", "BUS_FLEX"), (2, "economy", "ECO_SAVER")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fare_family": "FIRST_LUXE"}, "fare_family"),
        ({"fare_family": ""}, "fare_family"),
        ({"fare_family": 7}, "fare_family"),
    ],
)
def test_an_unknown_family_is_a_400_naming_the_field_and_holds_nothing(customer_client, body, field):
    flight = family_flight()

    response = keyed_post(customer_client, {"flight_id": flight.pk, "passengers": passengers(1), **body})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == [field]
    assert not SeatAssignment.objects.exists()


def test_a_family_not_sold_on_a_segments_flight_is_a_400_naming_the_segment(customer_client):
    first = family_flight()
    second = booking_flight(
        departure_time=first.arrival_time + (first.arrival_time - first.departure_time) * 2
    )

    response = keyed_post(
        customer_client,
        {
            "segments": [{"flight_id": first.pk}, {"flight_id": second.pk, "fare_family": "ECO_FLEX"}],
            "passengers": passengers(1),
        },
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["segments.1.fare_family"]
    assert not SeatAssignment.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("strategy", "statements"), [("pessimistic", 12), ("optimistic", 11)])
def test_a_hold_in_a_family_takes_no_more_statements_than_one_without(
    settings, customer_client, strategy, statements
):
    # As test_api.py's test_a_hold_takes_the_fewest_statements: the family's price comes with the
    # flight row, the breakdown goes in the seats' INSERT.
    settings.BOOKING_LOCK_STRATEGY = strategy
    flight = family_flight()
    keyed_post(customer_client, {"flight_id": flight.pk, "passengers": passengers(1)})

    with CaptureQueriesContext(connection) as queries:
        response = keyed_post(
            customer_client, {"flight_id": flight.pk, "passengers": passengers(3), "fare_family": "ECO_FLEX"}
        )

    assert response.status_code == 201
    assert len(queries) == statements, "\n".join(query["sql"][:120] for query in queries.captured_queries)
    assert SeatAssignment.objects.filter(fare_family="ECO_FLEX").count() == 3
