"""Search shows each flight's fare families with their rules and the price for all travellers."""

from datetime import timedelta

import pytest

from apps.core.testing.openapi import call_and_validate
from apps.flights.tests.conftest import at
from apps.flights.tests.factories import AirplaneFactory, FlightFactory, flight_with_families

pytestmark = pytest.mark.django_db


@pytest.fixture
def family_flight(bom, delhi, trip_day):
    flight = FlightFactory(
        airplane=AirplaneFactory(layout__rows=10, layout__business_rows=2),
        departure_airport=bom,
        arrival_airport=delhi,
        departure_time=at(trip_day, 9, 0, "Asia/Kolkata"),
        arrival_time=at(trip_day, 11, 10, "Asia/Kolkata"),
    )
    return flight_with_families(
        flight, {"ECO_SAVER": "4500.00", "ECO_FLEX": "6200.50", "BUS_FLEX": "15000.00"}
    )


def test_the_search_shows_each_family_its_rules_and_its_price_for_all_travellers(
    api_client, family_flight, trip_day
):
    response = api_client.get(
        "/api/v1/flights", {"trips": "BOM-DEL", "tripDate": trip_day.isoformat(), "travellers": "2"}
    )

    (result,) = response.json()["results"]
    assert result["fare_families"] == [
        {
            "code": "ECO_SAVER",
            "name": "Economy Saver",
            "cabin": "economy",
            "price": "4500.00",
            "total": "9000.00",
            "cabin_bag_kg": 7,
            "checked_bags": 1,
            "checked_bag_kg": 15,
            "refund": "none",
            "refund_fee": "0.00",
            "change_allowed": True,
            "change_fee": "3000.00",
        },
        {
            "code": "ECO_FLEX",
            "name": "Economy Flex",
            "cabin": "economy",
            "price": "6200.50",
            "total": "12401.00",
            "cabin_bag_kg": 7,
            "checked_bags": 1,
            "checked_bag_kg": 25,
            "refund": "fee",
            "refund_fee": "1500.00",
            "change_allowed": True,
            "change_fee": "0.00",
        },
        {
            "code": "BUS_FLEX",
            "name": "Business Flex",
            "cabin": "business",
            "price": "15000.00",
            "total": "30000.00",
            "cabin_bag_kg": 10,
            "checked_bags": 2,
            "checked_bag_kg": 32,
            "refund": "full",
            "refund_fee": "0.00",
            "change_allowed": True,
            "change_fee": "0.00",
        },
    ]
    assert result["base_fare"] == "4500.00"  # the cheapest family of economy


def test_the_search_answer_with_families_is_the_documented_shape(family_flight, trip_day):
    call_and_validate("GET", "/api/v1/flights", query={"trips": "BOM-DEL", "tripDate": trip_day.isoformat()})


def test_a_journey_shows_each_flights_families_priced_for_all_passengers(api_client, family_flight, trip_day):
    back = flight_with_families(
        FlightFactory(
            departure_airport=family_flight.arrival_airport,
            arrival_airport=family_flight.departure_airport,
            departure_time=family_flight.departure_time + timedelta(days=2),
            arrival_time=family_flight.arrival_time + timedelta(days=2),
        ),
        {"ECO_SAVER": "3900.00", "ECO_FLEX": "5100.00"},
    )

    response = api_client.get(
        "/api/v1/journeys",
        {
            "trip": "return",
            "origin": "BOM",
            "destination": "DEL",
            "date": trip_day.isoformat(),
            "return_date": (trip_day + timedelta(days=2)).isoformat(),
            "passengers": "3",
        },
    )

    assert response.status_code == 200, response.json()
    outbound, inbound = (segment["flights"] for segment in response.json()["segments"])
    assert [(f["code"], f["total"]) for f in outbound[0]["fare_families"]] == [
        ("ECO_SAVER", "13500.00"),
        ("ECO_FLEX", "18601.50"),
        ("BUS_FLEX", "45000.00"),
    ]
    assert inbound[0]["id"] == back.pk
    assert [(f["code"], f["total"]) for f in inbound[0]["fare_families"]] == [
        ("ECO_SAVER", "11700.00"),
        ("ECO_FLEX", "15300.00"),
    ]
