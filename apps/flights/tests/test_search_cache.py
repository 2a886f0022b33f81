import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from apps.flights.tests.conftest import at
from apps.flights.tests.factories import AirplaneFactory, FlightFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/flights"
REDIS_DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
    }
}


@pytest.fixture
def flight(bom, delhi, trip_day):
    departure = at(trip_day, 10, 0, "Asia/Kolkata")
    return FlightFactory(
        departure_airport=bom,
        arrival_airport=delhi,
        departure_time=departure,
        arrival_time=departure + timedelta(hours=2),
        base_fare=Decimal("4000.00"),
        business_fare=None,
    )


def fares(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [result["base_fare"] for result in response.json()["results"]]


def test_a_repeated_search_is_answered_from_the_cache_without_queries(api_client, flight):
    # given a first search
    first = api_client.get(URL, {"trips": "BOM-DEL"})

    # when the same search, spelt differently, runs again
    with CaptureQueriesContext(connection) as queries:
        second = api_client.get(URL, {"trips": "bom-del", "sort": ""})

    # then it is a hit with the same body and no SQL
    assert first["X-Cache"] == "miss"
    assert second["X-Cache"] == "hit"
    assert second.json() == first.json()
    assert len(queries) == 0


def test_different_searches_and_pages_have_different_entries(api_client, flight):
    api_client.get(URL, {"trips": "BOM-DEL"})

    assert api_client.get(URL, {"trips": "BOM-DEL", "page_size": "5"})["X-Cache"] == "miss"
    assert api_client.get(URL, {"trips": "DEL-BOM"})["X-Cache"] == "miss"
    assert api_client.get(URL, {"trips": "BOM-DEL", "price": "1"})["X-Cache"] == "miss"


def test_a_staff_edit_is_visible_to_the_very_next_search(
    api_client, staff_client, flight, django_capture_on_commit_callbacks
):
    # given a cached search showing the fare
    assert fares(api_client.get(URL)) == ["4000.00"]
    assert api_client.get(URL)["X-Cache"] == "hit"

    # when staff change the fare
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.patch(f"{URL}/{flight.pk}", {"base_fare": "4100.00"}, format="json")
    assert response.status_code == 200

    # then the next search misses the cache and shows the new fare
    after = api_client.get(URL)
    assert after["X-Cache"] == "miss"
    assert fares(after) == ["4100.00"]


def test_a_new_flight_is_visible_to_the_next_search(
    api_client, staff_client, flight, bom, delhi, django_capture_on_commit_callbacks
):
    assert len(fares(api_client.get(URL))) == 1
    departure = flight.departure_time + timedelta(hours=1)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            URL,
            {
                "flight_number": "AI999",
                "airplane_id": AirplaneFactory().pk,
                "departure_airport": "BOM",
                "arrival_airport": "DEL",
                "departure_time": departure.isoformat(),
                "arrival_time": (departure + timedelta(hours=2)).isoformat(),
                "base_fare": "3000.00",
            },
            format="json",
        )
    assert response.status_code == 201, response.content

    assert fares(api_client.get(URL)) == ["4000.00", "3000.00"]


def test_entries_expire_after_the_configured_ttl(api_client, flight):
    with override_settings(SEARCH_CACHE_TTL_SECONDS=7):
        api_client.get(URL)

    keys = cache.keys("flights:json:*")
    assert len(keys) == 1
    assert 0 < cache.ttl(keys[0]) <= 7


def test_search_answers_from_the_database_when_redis_is_down(api_client, flight, caplog):
    # given a cache at a closed port
    with override_settings(CACHES=REDIS_DOWN), caplog.at_level(logging.WARNING, logger="apps.flights"):
        # when searching twice
        first = api_client.get(URL, {"trips": "BOM-DEL"})
        second = api_client.get(URL, {"trips": "BOM-DEL"})

    # then both answer from the database and a warning is logged
    assert fares(first) == fares(second) == ["4000.00"]
    assert first["X-Cache"] == second["X-Cache"] == "miss"
    assert "Search cache unavailable" in caplog.text


def test_writes_succeed_when_redis_is_down(staff_client, flight, caplog, django_capture_on_commit_callbacks):
    with (
        override_settings(CACHES=REDIS_DOWN),
        caplog.at_level(logging.WARNING, logger="apps.flights"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = staff_client.patch(f"{URL}/{flight.pk}", {"gate": "C3"}, format="json")

    assert response.status_code == 200
    flight.refresh_from_db()
    assert flight.gate == "C3"
    assert "Could not bump the flight catalogue version" in caplog.text


def test_unknown_parameters_of_one_client_never_reach_another_clients_links(api_client):
    FlightFactory.create_batch(3)
    first = api_client.get("/api/v1/flights", {"page_size": 1, "utm_source": "someone-else"})

    second = api_client.get("/api/v1/flights", {"page_size": 1})

    assert "utm_source" in first.json()["next"]
    assert second["X-Cache"] == "miss"
    assert "utm_source" not in second.json()["next"]


@pytest.mark.parametrize("path", ["/api/v1/flights/{id}", "/api/v1/flights/{id}/seats"])
def test_a_flight_and_its_seat_map_are_cached_briefly_and_revalidate_with_an_etag(
    api_client, staff_client, flight, path, django_capture_on_commit_callbacks
):
    url = path.format(id=flight.pk)
    first = api_client.get(url)

    # a second look costs no query, and a client holding the ETag gets a bodiless 304
    with CaptureQueriesContext(connection) as queries:
        again = api_client.get(url)
        revalidated = api_client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert len(queries) == 0
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert first["Cache-Control"] == "public, max-age=5"
    assert (revalidated.status_code, revalidated.content) == (304, b"")
    assert revalidated["ETag"] == first["ETag"]
    (key,) = cache.keys("flights:json:*")
    assert 0 < cache.ttl(key) <= 5  # availability shown lags at most this much

    # a change to the catalogue is seen at once, and the old ETag no longer matches
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            staff_client.patch(f"{URL}/{flight.pk}", {"base_fare": "4100.00"}, format="json").status_code
            == 200
        )
    changed = api_client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]
    assert "4100.00" in changed.content.decode()


def test_an_unknown_flight_is_a_404_and_is_not_cached(api_client):
    response = api_client.get(f"{URL}/987654")

    assert (response.status_code, response.json()["code"]) == (404, "flight_not_found")
    assert cache.keys("flights:json:*") == []


def test_a_cached_search_is_one_round_trip_to_redis(api_client, flight, monkeypatch):
    api_client.get(URL, {"trips": "BOM-DEL"})
    redis_class = type(cache.client.get_client(write=True))
    trips: list[list[str]] = []
    real_command, real_pipeline = redis_class.execute_command, redis_class.pipeline

    def command(self, *args, **options):  # one command sent on its own: one round trip
        trips.append([args[0]])
        return real_command(self, *args, **options)

    def pipeline(self, *args, **options):  # commands sent together: one round trip when executed
        pipe = real_pipeline(self, *args, **options)
        execute = pipe.execute
        pipe.execute = lambda *a, **k: trips.append([c[0][0] for c in pipe.command_stack]) or execute(*a, **k)
        return pipe

    monkeypatch.setattr(redis_class, "execute_command", command)
    monkeypatch.setattr(redis_class, "pipeline", pipeline)

    response = api_client.get(URL, {"trips": "BOM-DEL"})

    assert response["X-Cache"] == "hit"
    # the catalogue version, the entry, and the rate-limit counter with its expiry, together
    assert trips == [["GET", "GET", "INCRBY", "EXPIRE"]]
