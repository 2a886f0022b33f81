"""Return and multi-city search on the website, without JavaScript (Django test client)."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from apps.flights.models import Flight
from apps.flights.tests.factories import AirportFactory, CityFactory
from apps.flights.tests.test_journeys import flight

pytestmark = pytest.mark.django_db


@pytest.fixture
def trip(bom, delhi, trip_day):
    back = trip_day + timedelta(days=2)
    return {
        "day": trip_day,
        "back": back,
        "AI101": flight("AI101", bom, delhi, trip_day, 6, 0, "5200.00"),
        "AI205": flight("AI205", bom, delhi, trip_day, 9, 30, "3900.00"),
        "AI302": flight("AI302", delhi, bom, back, 8, 0, "4100.00"),
        "AI404": flight("AI404", delhi, bom, back, 20, 0, "6000.00"),
    }


def radios(html: str) -> list[tuple[str, str, bool]]:
    """(name, flight number, checked) of each flight radio, in page order."""
    numbers = dict(Flight.objects.values_list("pk", "flight_number"))
    found = re.findall(r'<input type="radio" name="(flight_\d)" value="(\d+)"([^>]*)>', html)
    return [(name, numbers[int(value)], " checked" in rest) for name, value, rest in found]


def test_the_search_box_offers_the_trip_kinds_and_every_field_without_javascript(client):
    html = client.get("/").content.decode()

    assert re.search(r'<input type="radio" name="trip" value="one_way"[^>]*checked', html)
    for kind in ("return", "multi_city"):
        assert f'name="trip" value="{kind}"' in html
    assert "<legend>Trip</legend>" in html
    for name in ("return_date", "origin_2", "destination_2", "date_2", "origin_4", "date_4"):
        assert f'name="{name}"' in html
    assert '<label for="id_return_date">Returning</label>' in html


def test_a_return_search_shows_both_segments_and_a_continue_form(client, trip):
    # when a return for two is searched without JavaScript (every field of the box is sent)
    response = client.get(
        "/flights/",
        {
            "trip": "return",
            "origin": "Bombay",
            "destination": "Delhi",
            "date": trip["day"].isoformat(),
            "travellers": "2",
            "return_date": trip["back"].isoformat(),
            "origin_2": "",
            "destination_2": "",
            "date_2": "",
        },
    )

    # then each segment lists its flights as radio choices, the cheapest chosen, with a total
    assert response.status_code == 200
    html = response.content.decode()
    assert radios(html) == [
        ("flight_1", "AI101", False),
        ("flight_1", "AI205", True),
        ("flight_2", "AI302", True),
        ("flight_2", "AI404", False),
    ]
    assert "Flight 1: Mumbai → Delhi" in html
    assert "Flight 2: Delhi → Mumbai" in html
    assert "₹7,800" in html  # AI205 for two
    assert re.search(r"data-total>.*₹16,000", html)
    assert re.search(r'<form method="get" action="/flights/journey/continue/"', html)
    assert '<input type="hidden" name="count" value="2">' in html
    assert ">Continue</button>" in html


def test_continue_leads_to_the_booking_page_with_the_flights_in_segment_order(client, trip):
    response = client.get(
        "/flights/journey/continue/",
        {"flight_1": trip["AI205"].pk, "flight_2": trip["AI302"].pk, "count": "2"},
    )

    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert url.path == "/bookings/new/"
    assert parse_qs(url.query) == {"flights": [str(trip["AI205"].pk), str(trip["AI302"].pk)], "count": ["2"]}


@pytest.mark.parametrize(
    "query", [{"count": "2"}, {"flight_1": "x", "count": "1"}, {"flight_1": "5", "count": "10"}]
)
def test_continue_refuses_what_the_results_page_never_sends(client, query):
    assert client.get("/flights/journey/continue/", query).status_code == 400


def test_a_multi_city_search_of_three_segments_marks_flights_that_do_not_connect(
    client, bom, delhi, trip_day
):
    # given Mumbai → Delhi → Bengaluru on one day, then Bengaluru → Mumbai the next
    blr = AirportFactory(iata_code="BLR", name="Kempegowda", city=CityFactory(name="Bengaluru"))
    flight("AI1", bom, delhi, trip_day, 6, 0, "3000.00")  # lands 08:00
    flight("AI3", delhi, blr, trip_day, 8, 30, "2000.00")  # 30 minutes later
    flight("AI4", delhi, blr, trip_day, 12, 0, "4000.00")
    flight("AI5", blr, bom, trip_day + timedelta(days=1), 7, 0, "3500.00")

    response = client.get(
        "/flights/",
        {
            "trip": "multi_city",
            "origin": "BOM",
            "destination": "DEL",
            "date": trip_day.isoformat(),
            "origin_2": "DEL",
            "destination_2": "BLR",
            "date_2": trip_day.isoformat(),
            "origin_3": "Bengaluru",
            "destination_3": "Mumbai",
            "date_3": (trip_day + timedelta(days=1)).isoformat(),
            "origin_4": "",
            "destination_4": "",
            "date_4": "",
        },
    )

    # then three blocks, the default the cheapest flights that connect, AI3 marked
    assert response.status_code == 200
    html = response.content.decode()
    assert radios(html) == [
        ("flight_1", "AI1", True),
        ("flight_2", "AI3", False),
        ("flight_2", "AI4", True),
        ("flight_3", "AI5", True),
    ]
    assert html.count("Not bookable together with the flight chosen above") == 1
    assert "It leaves 30 minutes after the previous flight lands" in html
    assert re.search(r"data-total>.*₹10,500", html)


ROW_2 = {"trip": "multi_city", "origin_2": "DEL", "destination_2": "BOM"}


@pytest.mark.parametrize(
    ("extra", "fields", "label"),
    [
        ({"trip": "return"}, ["return_date"], "Returning"),
        ({"trip": "return", "return_date": "PAST"}, ["return_date"], "Returning"),
        ({"trip": "multi_city", "origin_2": "DEL"}, ["destination_2", "date_2"], "Flight 2 day"),
        ({**ROW_2, "date_2": "DAY", "date_3": "DAY"}, ["origin_3", "destination_3"], "Flight 3 origin"),
        ({**ROW_2, "origin_2": "Atlantis", "date_2": "DAY"}, ["origin_2"], "Flight 2 origin"),
        ({**ROW_2, "date_2": "PAST"}, ["date_2"], "Flight 2 day"),
    ],
)  # fmt: skip
def test_a_refused_journey_marks_the_fields(client, trip, extra, fields, label):
    day = trip["day"]
    relative = {"PAST": (day - timedelta(days=1)).isoformat(), "DAY": day.isoformat()}
    query = {"origin": "BOM", "destination": "DEL", "date": day.isoformat()}
    query |= {name: relative.get(value, value) for name, value in extra.items()}

    response = client.get("/flights/", query)

    assert response.status_code == 200
    assert sorted(response.context["form"].errors) == sorted(fields)
    assert f"{label}</a>" in response.content.decode()


def test_a_one_way_search_ignores_the_other_trip_fields(client, trip):
    response = client.get(
        "/flights/",
        {
            "trip": "one_way",
            "origin": "BOM",
            "destination": "DEL",
            "date": trip["day"].isoformat(),
            "return_date": "not a date",
            "origin_2": "Atlantis",
        },
    )

    assert response.status_code == 200
    assert [f.flight_number for f in response.context["page"].object_list] == ["AI101", "AI205"]
