"""The results page: places typed as words, refused fields all marked, defaults, and the day strip."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F
from django.utils import timezone

from apps.flights.models import Flight
from apps.flights.tests.test_views import Route, flight_numbers, route_bom_del

pytestmark = pytest.mark.django_db


@pytest.fixture
def route(db) -> Route:
    return route_bom_del()


def search(client, **params):
    return client.get("/flights/", params)


@pytest.mark.parametrize(
    ("origin", "destination"), [("Mumbai", "Delhi"), ("bombay", "NEW DELHI"), ("BOM", "del")]
)
def test_places_typed_as_words_find_the_flights(client, route, origin, destination):
    response = search(client, origin=origin, destination=destination, date=route.day.isoformat())

    assert response.status_code == 200
    assert flight_numbers(response) == ["AI101", "AI205", "AI877"]


def test_codes_keep_their_heading_and_words_show_the_city(client, route):
    by_code = search(client, origin="BOM", destination="DEL", date=route.day.isoformat())
    by_name = search(client, origin="bombay", destination="delhi", date=route.day.isoformat())

    assert "BOM → DEL" in by_code.content.decode()
    assert "Mumbai → Delhi" in by_name.content.decode()


def test_an_unknown_place_is_an_error_on_its_field_naming_it(client, route):
    response = search(client, origin="Mumbai", destination="Atlantis", date=route.day.isoformat())

    assert response.context["page"] is None
    assert response.context["form"].errors["destination"] == [
        "No airport or city called “Atlantis”: check the spelling or enter its code."
    ]
    html = response.content.decode()
    assert 'href="#id_destination"' in html  # the summary links to the marked field
    assert 'value="Atlantis"' in html  # the form keeps what was typed


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"price_min": "9000", "price_max": "100"}, ["price_max"]),
        ({"sort": "bogus"}, ["sort"]),
        ({"price_min": "-5"}, ["price_min"]),
        ({"sort": "bogus", "price_min": "-5", "origin": "Atlantis"}, ["origin", "sort", "price_min"]),
    ],
)
def test_every_refused_field_is_marked_and_the_refine_panel_stays(client, route, params, fields):
    query = {
        "origin": "BOM",
        "destination": "DEL",
        "date": route.day.isoformat(),
        "travellers": "1",
        **params,
    }

    response = search(client, **query)

    html = response.content.decode()
    assert response.context["page"] is None
    assert list(response.context["form"].errors) == fields
    for field in fields:
        assert f'href="#id_{field}"' in html
    assert "data-refine" in html
    assert 'name="price_min"' in html
    if set(fields) & {"sort", "price_min", "price_max"}:
        assert re.search(r"<details[^>]*data-refine open", html)  # unfolded, so the mark is seen


def test_a_shared_link_without_travellers_is_for_one(client, route):
    response = search(client, origin="BOM", destination="DEL", date=route.day.isoformat())

    assert flight_numbers(response) == ["AI101", "AI205", "AI877"]
    assert "1 traveller" in response.content.decode()


def test_a_past_date_is_refused_on_the_date_field_and_the_picker_starts_today(client, route):
    yesterday = timezone.now().date() - timedelta(days=2)

    response = search(client, origin="BOM", destination="DEL", date=yesterday.isoformat())

    assert response.context["page"] is None
    assert list(response.context["form"].errors) == ["date"]
    assert "That day has passed" in response.content.decode()
    picker = re.search(r'<input type="date"[^>]*>', client.get("/").content.decode())
    assert picker is not None
    assert re.search(r'min="\d{4}-\d{2}-\d{2}"', picker.group(0))


def test_the_day_strip_links_each_day_and_marks_the_chosen_one(client, route):
    Flight.objects.filter(pk=route.early.pk).update(
        departure_time=F("departure_time") + timedelta(days=1),
        arrival_time=F("arrival_time") + timedelta(days=1),
    )

    response = search(
        client, origin="Mumbai", destination="DEL", date=route.day.isoformat(), sort="price_asc"
    )

    days = response.context["fare_days"]
    assert [(day.day - route.day).days for day in days] == [-3, -2, -1, 0, 1, 2, 3]
    chosen, next_day = days[3], days[4]
    assert chosen.chosen
    assert str(chosen.lowest_fare) == "3900.00"
    assert str(next_day.lowest_fare) == "5200.00"
    assert next_day.url == (f"?origin=Mumbai&destination=DEL&date={next_day.day.isoformat()}&sort=price_asc")
    html = response.content.decode()
    assert html.count('aria-current="date"') == 1
    assert f'href="{chosen.url.replace("&", "&amp;")}" aria-current="date"' in html
    assert "₹5,200" in html  # the next day's lowest fare, as the money filter writes it


def test_the_day_strip_does_not_link_days_that_have_passed(client, route):
    today = timezone.now().astimezone(ZoneInfo("Asia/Kolkata")).date()

    response = search(client, origin="BOM", destination="DEL", date=(today + timedelta(days=1)).isoformat())

    assert [day.url is not None for day in response.context["fare_days"]] == [
        False,
        False,
        True,
        True,
        True,
        True,
        True,
    ]
