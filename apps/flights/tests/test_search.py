from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.flights.models import Flight
from apps.flights.tests.conftest import at
from apps.flights.tests.factories import AirplaneFactory, FlightFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/flights"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [flight["id"] for flight in response.json()["results"]]


@pytest.fixture
def airplane(db):
    return AirplaneFactory(layout__rows=10, layout__business_rows=2)


@pytest.fixture
def route_flight(bom, delhi, airplane, trip_day):
    def make(**fields):
        fields.setdefault("departure_airport", bom)
        fields.setdefault("arrival_airport", delhi)
        fields.setdefault("airplane", airplane)
        fields.setdefault("departure_time", at(trip_day, 10, 0, "Asia/Kolkata"))
        fields.setdefault("arrival_time", fields["departure_time"] + timedelta(hours=2))
        return FlightFactory(**fields)

    return make


def test_lists_only_scheduled_flights_departing_in_the_future(api_client, route_flight):
    # given one bookable flight and three that are not
    bookable = route_flight()
    route_flight(status=Flight.Status.CANCELLED)
    route_flight(status=Flight.Status.DEPARTED)
    past = timezone.now() - timedelta(hours=1)
    route_flight(departure_time=past, arrival_time=past + timedelta(hours=2))

    # when searching without parameters / then only the bookable one is listed
    assert ids(api_client.get(URL)) == [bookable.pk]


def test_trips_filters_by_route_in_either_case(api_client, route_flight, bom, delhi, jfk):
    # given flights BOM-DEL, DEL-BOM and BOM-JFK
    wanted = route_flight()
    route_flight(departure_airport=delhi, arrival_airport=bom)
    route_flight(arrival_airport=jfk)

    # when / then
    assert ids(api_client.get(URL, {"trips": "BOM-DEL"})) == [wanted.pk]
    assert ids(api_client.get(URL, {"trips": "bom-del"})) == [wanted.pk]


def test_an_unknown_airport_code_is_a_400_naming_it_not_an_empty_result(api_client, route_flight):
    route_flight()

    response = api_client.get(URL, {"trips": "BOM-XXX"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {"trips": ["No airport has the code “XXX”."]}


def test_price_range_is_inclusive_and_a_single_value_is_a_minimum(api_client, route_flight):
    # given fares 999.99, 1000, 5000 and 5000.01
    cheap = route_flight(base_fare=Decimal("999.99"))
    low = route_flight(base_fare=Decimal("1000.00"))
    high = route_flight(base_fare=Decimal("5000.00"))
    dear = route_flight(base_fare=Decimal("5000.01"))

    # when / then
    assert set(ids(api_client.get(URL, {"price": "1000-5000"}))) == {low.pk, high.pk}
    assert set(ids(api_client.get(URL, {"price": "5000"}))) == {high.pk, dear.pk}
    assert set(ids(api_client.get(URL, {"price": "0-999.99"}))) == {cheap.pk}


def test_travellers_needs_that_many_available_seats(api_client, route_flight):
    # given flights with 1, 3 and 4 seats left
    one = route_flight(available_seats=1)
    three = route_flight(available_seats=3)
    four = route_flight(available_seats=4)

    # when / then
    assert set(ids(api_client.get(URL, {"travellers": "3"}))) == {three.pk, four.pk}
    assert set(ids(api_client.get(URL, {"travellers": "1"}))) == {one.pk, three.pk, four.pk}


def test_trip_date_is_the_departure_airports_local_date(api_client, route_flight, bom, jfk, delhi, trip_day):
    # given, in Mumbai (UTC+5:30): 00:10 and 23:50 on the day, and 00:30 the next day (still the
    # day in UTC); in New York (UTC-5/-4): 23:30 on the day, which is the next day in UTC
    mumbai_early = route_flight(departure_time=at(trip_day, 0, 10, "Asia/Kolkata"))
    mumbai_late = route_flight(departure_time=at(trip_day, 23, 50, "Asia/Kolkata"))
    mumbai_next_day = route_flight(departure_time=at(trip_day + timedelta(days=1), 0, 30, "Asia/Kolkata"))
    new_york_late = route_flight(
        departure_airport=jfk, arrival_airport=delhi, departure_time=at(trip_day, 23, 30, "America/New_York")
    )
    assert new_york_late.departure_time.date() == trip_day + timedelta(days=1)
    assert mumbai_next_day.departure_time.date() == trip_day

    # when searching the day, and the next day
    on_day = ids(api_client.get(URL, {"tripDate": trip_day.isoformat()}))
    next_day = ids(api_client.get(URL, {"tripDate": (trip_day + timedelta(days=1)).isoformat()}))
    new_york_route = ids(api_client.get(URL, {"tripDate": trip_day.isoformat(), "trips": "JFK-DEL"}))

    # then each flight is on its local date only
    assert set(on_day) == {mumbai_early.pk, mumbai_late.pk, new_york_late.pk}
    assert next_day == [mumbai_next_day.pk]
    assert new_york_route == [new_york_late.pk]


SORT_VALUES = {
    "departure_time": lambda i: {"departure_time_offset": timedelta(hours=i)},
    "arrival_time": lambda i: {"arrival_offset": timedelta(hours=10 - 3 * i)},
    "price": lambda i: {"base_fare": Decimal(1000 + 700 * ((i * 2) % 3))},
    "duration": lambda i: {"arrival_offset": timedelta(hours=1 + (i * 2) % 3)},
    "available_seats": lambda i: {"available_seats": 10 + (i * 2) % 3},
}


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("field", list(SORT_VALUES))
def test_each_sort_field_and_direction(api_client, route_flight, trip_day, field, direction):
    # given three flights whose values of the field differ, created in an order unlike the sort
    base = at(trip_day, 8, 0, "Asia/Kolkata")
    flights = []
    for i in range(3):
        values = SORT_VALUES[field](i)
        departure = base + values.pop("departure_time_offset", timedelta(0))
        arrival = departure + values.pop("arrival_offset", timedelta(hours=2))
        flights.append(route_flight(departure_time=departure, arrival_time=arrival, **values))

    def key(flight):
        return {
            "departure_time": flight.departure_time,
            "arrival_time": flight.arrival_time,
            "price": flight.base_fare,
            "duration": flight.arrival_time - flight.departure_time,
            "available_seats": flight.available_seats,
        }[field]

    expected = [f.pk for f in sorted(flights, key=key, reverse=direction == "desc")]
    assert len({key(f) for f in flights}) == 3

    # when / then
    assert ids(api_client.get(URL, {"sort": f"{field}_{direction}"})) == expected


def test_sort_keys_combine_in_order_and_ties_break_by_id(api_client, route_flight, trip_day):
    # given two flights at 2000 (departing 9:00 and 8:00) and one at 1000
    early = at(trip_day, 8, 0, "Asia/Kolkata")
    late_2000 = route_flight(base_fare=Decimal(2000), departure_time=early + timedelta(hours=1))
    early_2000 = route_flight(base_fare=Decimal(2000), departure_time=early)
    cheap = route_flight(base_fare=Decimal(1000), departure_time=early + timedelta(hours=2))
    twin = route_flight(base_fare=Decimal(1000), departure_time=early + timedelta(hours=2))

    # when / then
    assert ids(api_client.get(URL, {"sort": "price_desc,departure_time_desc"})) == [
        late_2000.pk,
        early_2000.pk,
        cheap.pk,
        twin.pk,
    ]
    assert ids(api_client.get(URL, {"sort": "price_asc,departure_time_asc"})) == [
        cheap.pk,
        twin.pk,
        early_2000.pk,
        late_2000.pk,
    ]


def test_all_filters_and_sorts_combined(api_client, route_flight, bom, delhi, jfk, trip_day):
    # given flights that each fail exactly one filter, and two that pass
    morning = at(trip_day, 9, 0, "Asia/Kolkata")
    match_dear = route_flight(base_fare=Decimal(4000), available_seats=5, departure_time=morning)
    match_cheap = route_flight(
        base_fare=Decimal(3000), available_seats=5, departure_time=morning + timedelta(hours=3)
    )
    route_flight(base_fare=Decimal(3000), available_seats=5, arrival_airport=jfk)  # route
    route_flight(base_fare=Decimal(6000), available_seats=5)  # price
    route_flight(base_fare=Decimal(3000), available_seats=1)  # travellers
    route_flight(
        base_fare=Decimal(3000), available_seats=5, departure_time=morning + timedelta(days=1)
    )  # date

    # when
    response = api_client.get(
        URL,
        {
            "trips": "BOM-DEL",
            "price": "2000-5000",
            "travellers": "2",
            "tripDate": trip_day.isoformat(),
            "sort": "price_asc,departure_time_asc",
        },
    )

    # then
    assert ids(response) == [match_cheap.pk, match_dear.pk]


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("trips", "BOM"),
        ("trips", "BOMDEL"),
        ("trips", "BOM-BOM"),
        ("trips", "B0M-DEL"),
        ("trips", "BOM-DEL-BLR"),
        ("price", "abc"),
        ("price", "5000-1000"),
        ("price", "-5"),
        ("price", "1000-"),
        ("price", "1,000"),
        ("travellers", "0"),
        ("travellers", "10"),
        ("travellers", "two"),
        ("travellers", "-1"),
        ("tripDate", "2030-13-01"),
        ("tripDate", "2030-02-30"),
        ("tripDate", "tomorrow"),
        ("tripDate", "2030-1-5"),
        ("sort", "price"),
        ("sort", "price_up"),
        ("sort", "seats_asc"),
        ("sort", "price_asc,price_desc"),
        ("sort", "price_asc;id"),
        ("page", "0"),
        ("page", "x"),
        ("page_size", "0"),
        ("page_size", "101"),
        ("page_size", "ten"),
    ],
)
def test_each_malformed_parameter_is_a_400_naming_it(api_client, route_flight, parameter, value):
    route_flight()

    response = api_client.get(URL, {parameter: value})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == [parameter]


def test_every_malformed_parameter_is_named_at_once(api_client):
    response = api_client.get(
        URL, {"trips": "x", "price": "y", "travellers": "z", "tripDate": "d", "sort": "s"}
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"trips", "price", "travellers", "tripDate", "sort"}


def test_blank_parameters_mean_any(api_client, route_flight):
    flight = route_flight()

    response = api_client.get(URL, {"trips": "", "price": "", "travellers": "", "tripDate": "", "sort": ""})

    assert ids(response) == [flight.pk]


def test_pagination_edges(api_client, route_flight, trip_day):
    # given 25 flights
    start = at(trip_day, 6, 0, "Asia/Kolkata")
    flights = [route_flight(departure_time=start + timedelta(minutes=10 * i)) for i in range(25)]

    # when paging by 10
    first = api_client.get(URL, {"page_size": "10"}).json()
    last = api_client.get(URL, {"page_size": "10", "page": "3"}).json()
    past_the_end = api_client.get(URL, {"page_size": "10", "page": "4"})
    everything = api_client.get(URL, {"page_size": "100"}).json()

    # then
    assert first["count"] == 25
    assert first["previous"] is None
    assert "page=2" in first["next"]
    assert [f["id"] for f in first["results"]] == [f.pk for f in flights[:10]]
    assert [f["id"] for f in last["results"]] == [f.pk for f in flights[20:]]
    assert last["next"] is None
    assert (past_the_end.status_code, past_the_end.json()["code"]) == (404, "not_found")
    assert list(past_the_end.json()["errors"]) == ["page"]
    assert len(everything["results"]) == 25
    assert everything["next"] is None


def test_default_page_size_is_20(api_client, route_flight, trip_day):
    start = at(trip_day, 6, 0, "Asia/Kolkata")
    for i in range(21):
        route_flight(departure_time=start + timedelta(minutes=i))

    body = api_client.get(URL).json()

    assert len(body["results"]) == 20
    assert body["count"] == 21


def test_query_count_does_not_grow_with_results(api_client, route_flight, bom, delhi, jfk, trip_day):
    # given one matching flight on one route and twenty on another, each with its own airplane
    start = at(trip_day, 6, 0, "Asia/Kolkata")
    route_flight(
        airplane=AirplaneFactory(), departure_airport=delhi, arrival_airport=bom, departure_time=start
    )
    for i in range(20):
        route_flight(airplane=AirplaneFactory(), departure_time=start + timedelta(minutes=i))
    params = {"tripDate": trip_day.isoformat(), "sort": "duration_asc,price_desc"}
    with CaptureQueriesContext(connection) as first:  # reads the place index of this catalogue version
        api_client.get(URL, {**params, "trips": "BOM-JFK"})

    # when
    with CaptureQueriesContext(connection) as one_result:
        one = api_client.get(URL, {**params, "trips": "DEL-BOM"})
    with CaptureQueriesContext(connection) as twenty_results:
        twenty = api_client.get(URL, {**params, "trips": "BOM-DEL"})
    with CaptureQueriesContext(connection) as any_route:
        everything = api_client.get(URL, {"tripDate": trip_day.isoformat(), "page_size": "100"})

    # then: the page with its count — whatever the number of results; the time zones of the date's
    # windows come from the place index, and the fare families from their catalogue, each read once
    # per catalogue version (apps/flights/places.py, apps/flights/fares.py)
    assert len(first) == 3
    assert len(ids(one)) == 1
    assert len(ids(twenty)) == 20
    assert len(ids(everything)) == 21
    assert len(one_result) == len(twenty_results) == len(any_route) == 1


def test_result_shape(api_client, bom, delhi, trip_day):
    # given a flight at 23:30 in Mumbai with a business cabin
    airplane = AirplaneFactory(
        model_name="A321neo", registration="VT-TST", layout__rows=10, layout__business_rows=2
    )
    departure = at(trip_day, 23, 30, "Asia/Kolkata")
    flight = FlightFactory(
        flight_number="AI131",
        airplane=airplane,
        departure_airport=bom,
        arrival_airport=delhi,
        departure_time=departure,
        arrival_time=departure + timedelta(minutes=135),
        base_fare=Decimal("5432.10"),
        business_fare=Decimal("20000"),
        gate="B7",
    )

    # when
    result = api_client.get(URL).json()["results"][0]

    # then
    utc_departure = departure.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert result == {
        "id": flight.pk,
        "flight_number": "AI131",
        "departure_airport": {
            "code": "BOM",
            "name": "Chhatrapati Shivaji Maharaj International",
            "city": "Mumbai",
            "country": "IN",
            "time_zone": "Asia/Kolkata",
        },
        "arrival_airport": {
            "code": "DEL",
            "name": "Indira Gandhi International",
            "city": "Delhi",
            "country": "IN",
            "time_zone": "Asia/Kolkata",
        },
        "airplane": {"id": airplane.pk, "model_name": "A321neo", "registration": "VT-TST"},
        "departure_time": utc_departure,
        "arrival_time": (departure + timedelta(minutes=135)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "departure_local": f"{trip_day.isoformat()}T23:30:00+05:30",
        "arrival_local": f"{(trip_day + timedelta(days=1)).isoformat()}T01:45:00+05:30",
        "duration_minutes": 135,
        "currency": "INR",
        "base_fare": "5432.10",
        "fares": {"business": "20000.00", "economy": "5432.10"},
        "gate": "B7",
        "status": "scheduled",
        "total_seats": 56,
        "available_seats": 56,
        "fare_families": [],  # sold in none (apps/flights/tests/test_fare_search.py shows them)
    }
