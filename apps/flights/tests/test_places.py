"""Search by place: names, codes, accents, cities with several airports, the cached index, the API."""

from datetime import timedelta
from decimal import Decimal

import pytest

from apps.flights.models import City
from apps.flights.places import PlaceNotFound, place_index, place_key, place_resolve
from apps.flights.search_cache import catalogue_version_bump
from apps.flights.tests.conftest import at
from apps.flights.tests.factories import AirportFactory, CityFactory, FlightFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/flights"


@pytest.fixture
def london(db):
    city = CityFactory(name="London", country="GB")
    return (
        AirportFactory(iata_code="LHR", name="London Heathrow Airport", city=city, time_zone="Europe/London"),
        AirportFactory(iata_code="LGW", name="London Gatwick Airport", city=city, time_zone="Europe/London"),
    )


@pytest.fixture
def zurich(db):
    return AirportFactory(
        iata_code="ZRH",
        name="Zürich Airport",
        city=CityFactory(name="Zürich", country="CH"),
        time_zone="Europe/Zurich",
    )


def test_place_keys_ignore_case_accents_punctuation_and_spacing():
    assert place_key("  São   Paulo ") == "sao paulo"
    assert place_key("ZÜRICH") == "zurich"
    assert place_key("St. John's") == "st john s"


@pytest.mark.parametrize(
    ("typed", "codes"),
    [
        ("Mumbai", ("BOM",)),
        ("mumbai", ("BOM",)),
        ("  MUMBAI ", ("BOM",)),
        ("Bombay", ("BOM",)),
        ("bom", ("BOM",)),
        ("Mumbai (BOM)", ("BOM",)),
        ("Chhatrapati Shivaji Maharaj International", ("BOM",)),
        ("chhatrapati shivaji maharaj", ("BOM",)),
        ("New Delhi", ("DEL",)),
        ("London", ("LGW", "LHR")),
        ("Heathrow", ("LHR",)),
        ("london gatwick", ("LGW",)),
        ("zurich", ("ZRH",)),
        ("Zürich", ("ZRH",)),
    ],
)
def test_a_city_an_airport_name_or_a_code_resolves_to_its_airports(bom, delhi, london, zurich, typed, codes):
    assert place_resolve(typed).codes == codes


def test_an_unknown_place_is_refused_naming_it(bom):
    with pytest.raises(PlaceNotFound, match="“Atlantis”"):
        place_resolve("Atlantis")


def test_a_name_shared_by_two_cities_is_refused_naming_both_with_their_codes(db):
    AirportFactory(iata_code="HYD", city=CityFactory(name="Hyderabad", country="IN"))
    AirportFactory(
        iata_code="HDD", city=CityFactory(name="Hyderabad", country="PK"), time_zone="Asia/Karachi"
    )

    with pytest.raises(PlaceNotFound) as refused:
        place_resolve("hyderabad")

    assert "Hyderabad, IN (HYD)" in str(refused.value)
    assert "Hyderabad, PK (HDD)" in str(refused.value)
    assert place_resolve("HDD").codes == ("HDD",)  # the code still says which


def test_the_index_is_read_from_the_database_once_per_catalogue_version(
    bom, delhi, django_assert_num_queries
):
    with django_assert_num_queries(1):
        place_index()
    with django_assert_num_queries(0):
        assert place_resolve("Bombay").codes == ("BOM",)

    # when an alternative name is added and the catalogue version moves on
    City.objects.filter(name="Delhi").update(alternative_names="Dilli")
    catalogue_version_bump()

    # then the next resolution sees it
    assert place_resolve("dilli").codes == ("DEL",)


def test_editing_a_city_in_the_admin_makes_its_new_name_searchable_at_once(
    client, admin_user, bom, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    place_index()  # cached before the edit
    city = bom.city

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/flights/city/{city.pk}/change/",
            {"name": "Mumbai", "country": "IN", "alternative_names": "Bombay\nBambai"},
        )

    assert response.status_code == 302
    assert place_resolve("Bambai").codes == ("BOM",)


@pytest.fixture
def london_new_york(london, jfk, trip_day):
    lhr, lgw = london
    return [
        FlightFactory(
            flight_number=number,
            departure_airport=origin,
            arrival_airport=jfk,
            departure_time=at(trip_day, hour, 0, "Europe/London"),
            arrival_time=at(trip_day, hour, 0, "Europe/London") + timedelta(hours=8),
            base_fare=Decimal(fare),
        )
        for number, origin, hour, fare in (("AX1", lhr, 9, "40000.00"), ("AX2", lgw, 11, "35000.00"))
    ]


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [flight["flight_number"] for flight in response.json()["results"]]


def test_api_search_by_city_covers_all_of_its_airports(api_client, london_new_york, trip_day):
    response = api_client.get(
        URL, {"origin": "london", "destination": "New York", "tripDate": trip_day.isoformat()}
    )

    assert numbers(response) == ["AX1", "AX2"]


def test_api_search_by_former_name_and_by_code_find_the_same_flights(api_client, bom, delhi, trip_day):
    flight = FlightFactory(
        departure_airport=bom, arrival_airport=delhi, departure_time=at(trip_day, 10, 0, "Asia/Kolkata")
    )

    by_name = api_client.get(URL, {"origin": "Bombay", "destination": "delhi"})
    by_code = api_client.get(URL, {"origin": "BOM", "destination": "DEL"})
    by_trips = api_client.get(URL, {"trips": "BOM-DEL"})

    assert numbers(by_name) == numbers(by_code) == numbers(by_trips) == [flight.flight_number]


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"origin": "Atlantis", "destination": "Delhi"},
            {"origin": ["No airport or city called “Atlantis”: check the spelling or enter its code."]},
        ),
        (
            {"origin": "Mumbai", "destination": "Bombay"},
            {"destination": ["The destination must differ from the origin."]},
        ),
        (
            {"trips": "BOM-DEL", "origin": "Mumbai"},
            {"trips": ["Give either trips or origin and destination, not both."]},
        ),
    ],
)
def test_api_refuses_an_unknown_or_contradictory_place_with_a_400_naming_the_field(
    api_client, bom, delhi, params, errors
):
    response = api_client.get(URL, params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    assert response.json()["errors"] == errors


def test_a_search_by_trips_answered_from_the_cache_costs_no_query(
    api_client, bom, delhi, django_assert_num_queries
):
    FlightFactory(departure_airport=bom, arrival_airport=delhi)
    first = api_client.get(URL, {"trips": "BOM-DEL"})
    catalogue_version_bump()  # a new version: no place index is cached for it
    second = api_client.get(URL, {"trips": "BOM-DEL"})

    with django_assert_num_queries(0):
        third = api_client.get(URL, {"trips": "BOM-DEL"})

    assert first["X-Cache"] == second["X-Cache"] == "miss"
    assert third["X-Cache"] == "hit"
