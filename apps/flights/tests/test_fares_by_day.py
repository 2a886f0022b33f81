"""Flexible dates: the lowest fare of each local day around the chosen one, one query, cached."""

from datetime import timedelta
from decimal import Decimal

import pytest

from apps.flights.models import Flight
from apps.flights.places import place_index
from apps.flights.selectors import flight_fares_by_day
from apps.flights.tests.conftest import at
from apps.flights.tests.factories import AirplaneFactory, FlightFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/flights/fares-by-day"


@pytest.fixture
def fly(bom, delhi):
    airplane = AirplaneFactory(layout__rows=10)

    def make(day, hour, minute, fare, **fields):
        departs = at(day, hour, minute, "Asia/Kolkata")
        return FlightFactory(
            airplane=airplane,
            departure_airport=fields.pop("departure_airport", bom),
            arrival_airport=fields.pop("arrival_airport", delhi),
            departure_time=departs,
            arrival_time=departs + timedelta(hours=2),
            base_fare=Decimal(fare),
            **fields,
        )

    return make


def test_each_day_has_its_lowest_available_fare_on_the_local_date(fly, trip_day, jfk):
    # given flights on the chosen day and around it, some of them not for sale
    fly(trip_day, 9, 0, "5200.00")
    fly(trip_day, 18, 0, "3900.00")
    fly(trip_day, 0, 30, "3100.00")  # 00:30 in Kolkata is the day before in UTC: still this day
    fly(trip_day + timedelta(days=1), 7, 0, "1000.00", status=Flight.Status.CANCELLED)
    fly(trip_day + timedelta(days=1), 8, 0, "1500.00", available_seats=0)
    fly(trip_day + timedelta(days=1), 9, 0, "4400.00")
    fly(trip_day - timedelta(days=3), 23, 59, "2500.00")
    fly(trip_day + timedelta(days=4), 9, 0, "900.00")  # outside the seven days
    fly(trip_day, 9, 0, "800.00", arrival_airport=jfk)  # another route

    # when
    days = flight_fares_by_day(departure_codes=("BOM",), arrival_codes=("DEL",), day=trip_day)

    # then
    assert [(day.day - trip_day).days for day in days] == [-3, -2, -1, 0, 1, 2, 3]
    assert [day.lowest_fare for day in days] == [
        Decimal("2500.00"),
        None,
        None,
        Decimal("3100.00"),
        Decimal("4400.00"),
        None,
        None,
    ]
    assert [day.flights for day in days] == [1, 0, 0, 3, 1, 0, 0]
    assert {day.currency for day in days if day.flights} == {"INR"}


def test_travellers_need_that_many_seats(fly, trip_day):
    fly(trip_day, 9, 0, "3000.00", available_seats=2)
    fly(trip_day, 10, 0, "4000.00")

    days = flight_fares_by_day(departure_codes=("BOM",), arrival_codes=("DEL",), day=trip_day, travellers=3)

    assert days[3].lowest_fare == Decimal("4000.00")


def test_one_query_per_route_then_answered_from_the_cache(
    api_client, fly, trip_day, django_assert_num_queries
):
    fly(trip_day, 9, 0, "3900.00")
    place_index()  # the place index of this catalogue version, read once for every search
    params = {"trips": "BOM-DEL", "tripDate": trip_day.isoformat()}

    with django_assert_num_queries(1):
        first = api_client.get(URL, params)
    with django_assert_num_queries(0):
        second = api_client.get(URL, params)

    assert first.status_code == second.status_code == 200
    assert (first["X-Cache"], second["X-Cache"]) == ("miss", "hit")
    assert first.content == second.content
    body = first.json()
    assert body["departure_airports"] == ["BOM"]
    assert body["arrival_airports"] == ["DEL"]
    assert body["travellers"] == 1
    assert [day["chosen"] for day in body["days"]] == [False, False, False, True, False, False, False]
    assert body["days"][3] == {
        "date": trip_day.isoformat(),
        "lowest_fare": "3900.00",
        "currency": "INR",
        "flights": 1,
        "chosen": True,
    }
    assert body["days"][0]["lowest_fare"] is None


def test_places_work_as_in_the_search(api_client, fly, trip_day):
    fly(trip_day, 9, 0, "3900.00")

    response = api_client.get(
        URL, {"origin": "Bombay", "destination": "new delhi", "tripDate": trip_day.isoformat()}
    )

    assert response.status_code == 200
    assert response.json()["days"][3]["lowest_fare"] == "3900.00"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"trips": "BOM-DEL"}, "tripDate"),
        ({"tripDate": "2030-01-01"}, "trips"),
        ({"origin": "Mumbai", "tripDate": "2030-01-01"}, "destination"),
        ({"origin": "Atlantis", "destination": "Delhi", "tripDate": "2030-01-01"}, "origin"),
        ({"trips": "BOM-XXX", "tripDate": "2030-01-01"}, "trips"),
        ({"trips": "BOM-DEL", "tripDate": "1 Jan"}, "tripDate"),
    ],
)
def test_a_missing_or_unknown_route_or_day_is_a_400_naming_it(api_client, bom, delhi, params, field):
    response = api_client.get(URL, params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == [field]
