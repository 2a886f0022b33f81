"""GET /api/v1/journeys: return and multi-city search, its refusals and its cache."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.testing.openapi import call_and_validate
from apps.flights.tests.test_journeys import flight

pytestmark = pytest.mark.django_db

URL = "/api/v1/journeys"


@pytest.fixture
def trip(bom, delhi, trip_day):
    """Mumbai → Delhi on the day (AI101 06:00 ₹5,200, AI205 09:30 ₹3,900), back two days later
    (AI302 08:00 ₹4,100)."""
    back = trip_day + timedelta(days=2)
    return {
        "day": trip_day,
        "back": back,
        "AI101": flight("AI101", bom, delhi, trip_day, 6, 0, "5200.00"),
        "AI205": flight("AI205", bom, delhi, trip_day, 9, 30, "3900.00"),
        "AI302": flight("AI302", delhi, bom, back, 8, 0, "4100.00", business_fare=None),
    }


def refused(response) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error"
    return body["errors"]


def test_a_return_answers_both_segments_and_the_cheapest_total(api_client, trip):
    response = api_client.get(
        URL,
        {
            "trip": "return",
            "origin": "Bombay",
            "destination": "DEL",
            "date": trip["day"].isoformat(),
            "return_date": trip["back"].isoformat(),
            "passengers": "2",
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["trip"], body["passengers"]) == ("return", 2)
    assert [
        (s["position"], s["origin"]["airports"], s["destination"]["airports"], s["date"])
        for s in body["segments"]
    ] == [
        (1, ["BOM"], ["DEL"], trip["day"].isoformat()),
        (2, ["DEL"], ["BOM"], trip["back"].isoformat()),
    ]
    outbound = body["segments"][0]["flights"]
    assert [f["flight_number"] for f in outbound] == ["AI101", "AI205"]
    assert outbound[1]["price"] == {"cabin": "economy", "amount": "7800.00", "currency": "INR"}
    assert outbound[1]["fares"] == {"business": "15000.00", "economy": "3900.00"}
    assert outbound[1]["departure_local"].startswith(f"{trip['day'].isoformat()}T09:30:00+05:30")
    assert body["cheapest_total"] == {
        "amount": "16000.00",
        "currency": "INR",
        "flights": [trip["AI205"].pk, trip["AI302"].pk],
    }


def test_a_multi_city_trip_of_three_segments(api_client, trip, bom, delhi):
    day, back = trip["day"], trip["back"]

    response = api_client.get(
        URL,
        {
            "trip": "multi_city",
            "origin_1": "BOM",
            "destination_1": "DEL",
            "date_1": day.isoformat(),
            "origin_2": "DEL",
            "destination_2": "BOM",
            "date_2": back.isoformat(),
            "origin_3": "BOM",
            "destination_3": "DEL",
            "date_3": (back + timedelta(days=1)).isoformat(),
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert [len(s["flights"]) for s in body["segments"]] == [2, 1, 0]
    assert body["cheapest_total"] is None  # nothing flies the third segment


def test_a_one_way_journey_is_the_default(api_client, trip):
    response = api_client.get(URL, {"origin": "BOM", "destination": "DEL", "date": trip["day"].isoformat()})

    assert response.status_code == 200
    body = response.json()
    assert body["trip"] == "one_way"
    assert body["cheapest_total"]["amount"] == "3900.00"


def one_way(day, **params) -> dict[str, str]:
    return {"origin": "BOM", "destination": "DEL", "date": day.isoformat(), **params}


def multi_city(day, **params) -> dict[str, str]:
    second = {"origin_2": "DEL", "destination_2": "BOM", "date_2": day.isoformat()}
    return {"trip": "multi_city", "origin_1": "BOM", "destination_1": "DEL", "date_1": day.isoformat()} | {
        **second,
        **params,
    }


FIRST_TWO = {f"{name}_{k}" for name in ("origin", "destination", "date") for k in (1, 2)}
THIRD = {"origin_3", "destination_3", "date_3"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (lambda d: one_way(d, trip="circle"), {"trip"}),
        (lambda d: {"trip": "return"}, {"origin", "destination", "date", "return_date"}),
        (lambda d: one_way(d, trip="return"), {"return_date"}),
        (lambda d: one_way(d, trip="return", return_date=str(d - timedelta(days=1))), {"return_date"}),
        (lambda d: one_way(d, trip="return", return_date="tomorrow"), {"return_date"}),
        (lambda d: one_way(d, origin="Atlantis"), {"origin"}),
        (lambda d: one_way(d, destination="Bombay"), {"destination"}),
        (lambda d: one_way(d, date="2020-13-01"), {"date"}),
        (lambda d: one_way(d, date="2999-01-01"), {"date"}),
        (lambda d: one_way(d, date=""), {"date"}),
        (lambda d: one_way(d, passengers="10"), {"passengers"}),
        (lambda d: one_way(d, passengers="²"), {"passengers"}),
        (lambda d: {"trip": "multi_city"}, FIRST_TWO),
        (lambda d: {"trip": "multi_city", "origin_1": "BOM"}, FIRST_TWO - {"origin_1"}),
        (lambda d: multi_city(d, origin_5="BOM"), {"origin_5"}),
        (lambda d: multi_city(d, date_4=str(d)), {*THIRD, "origin_4", "destination_4"}),
        (lambda d: multi_city(d, destination_2="Atlantis"), {"destination_2"}),
        (lambda d: multi_city(d, date_2=str(d - timedelta(days=1))), {"date_2"}),
        (lambda d: multi_city(d, destination_2="DEL"), {"destination_2"}),
    ],
)  # fmt: skip
def test_every_refusal_is_a_400_naming_the_parameter(api_client, trip, query, expected):
    response = api_client.get(URL, query(trip["day"]))

    assert set(refused(response)) == expected


def test_a_repeated_journey_costs_no_query_and_a_catalogue_change_is_seen_at_once(
    api_client, staff_client, trip, django_capture_on_commit_callbacks
):
    # given a return searched once
    query = {
        "trip": "return",
        "origin": "BOM",
        "destination": "DEL",
        "date": trip["day"].isoformat(),
        "return_date": trip["back"].isoformat(),
    }
    first = api_client.get(URL, query)
    assert first["X-Cache"] == "miss"

    # when it is searched again, then both segments come from the cache without SQL
    with CaptureQueriesContext(connection) as queries:
        second = api_client.get(URL, query)
    assert second["X-Cache"] == "hit"
    assert second.json() == first.json()
    assert len(queries) == 0

    # when staff change a fare, then the next search misses and shows it
    with django_capture_on_commit_callbacks(execute=True):
        changed = staff_client.patch(
            f"/api/v1/flights/{trip['AI302'].pk}", {"base_fare": "4000.00"}, format="json"
        )
    assert changed.status_code == 200
    third = api_client.get(URL, query)
    assert third["X-Cache"] == "miss"
    assert third.json()["cheapest_total"]["amount"] == "7900.00"


def test_answers_and_refusals_keep_to_the_openapi_document(trip):
    found = call_and_validate(
        "GET",
        URL,
        query={
            "trip": "return",
            "origin": "BOM",
            "destination": "DEL",
            "date": trip["day"].isoformat(),
            "return_date": trip["back"].isoformat(),
            "passengers": "2",
        },
    )
    refusal = call_and_validate("GET", URL, query={"trip": "multi_city", "origin_1": "BOM"})

    assert found.status_code == 200
    assert [len(s["flights"]) for s in found.json()["segments"]] == [2, 1]
    assert refusal.status_code == 400
