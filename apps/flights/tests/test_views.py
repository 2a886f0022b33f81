"""Search, results and seat-map pages (Django test client)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.bookings.services import booking_hold_create
from apps.flights.models import Flight
from apps.flights.tests.factories import AirplaneFactory, FlightFactory, delhi_airport, mumbai_airport

KOLKATA = ZoneInfo("Asia/Kolkata")


@dataclass
class Route:
    day: date
    early: Flight  # 06:00, ₹5,200
    midday: Flight  # 09:30, ₹3,900
    evening: Flight  # 18:45, ₹6,800


def route_bom_del() -> Route:
    """Three Mumbai → Delhi flights five days from now (Asia/Kolkata local times), one airplane
    with business rows 1–2 (A C D F) and economy rows 3–12 (A–F): 68 seats each."""
    bom = mumbai_airport()
    delhi = delhi_airport()
    airplane = AirplaneFactory(model_name="A320neo", layout__rows=12, layout__business_rows=2)
    day = (timezone.now().astimezone(KOLKATA) + timedelta(days=5)).date()

    def flight(number: str, hour: int, minute: int, fare: str, minutes: int) -> Flight:
        departs = datetime(day.year, day.month, day.day, hour, minute, tzinfo=KOLKATA)
        return FlightFactory(
            flight_number=number,
            airplane=airplane,
            departure_airport=bom,
            arrival_airport=delhi,
            departure_time=departs,
            arrival_time=departs + timedelta(minutes=minutes),
            base_fare=Decimal(fare),
            business_fare=Decimal("18500.00"),
            gate="C31",
        )

    return Route(
        day=day,
        early=flight("AI101", 6, 0, "5200.00", 135),
        midday=flight("AI205", 9, 30, "3900.00", 125),
        evening=flight("AI877", 18, 45, "6800.00", 140),
    )


@pytest.fixture
def route(db) -> Route:
    return route_bom_del()


def results_for(client, route: Route, **params):
    query = {"origin": "BOM", "destination": "DEL", "date": route.day.isoformat(), "travellers": 2, **params}
    return client.get("/flights/", query)


def flight_numbers(response) -> list[str]:
    return [flight.flight_number for flight in response.context["page"].object_list]


def test_home_page_shows_the_search_form(client):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="origin"' in html
    assert 'name="destination"' in html
    assert 'type="date"' in html
    assert 'name="travellers"' in html
    assert "airline.css" in html  # served locally by whitenoise, nothing from a CDN
    assert "http://" not in html.split("<body")[0]
    assert "https://" not in html.split("<body")[0]


def test_results_show_local_times_duration_fare_and_seats_left(client, route):
    response = results_for(client, route)

    assert response.status_code == 200
    assert flight_numbers(response) == ["AI101", "AI205", "AI877"]
    html = response.content.decode()
    assert "06:00" in html
    assert "08:15" in html
    assert "2h 15m" in html
    assert "₹5,200" in html
    assert "68 seats left" in html


def test_results_sort_by_price_and_filter_by_fare(client, route):
    by_price = results_for(client, route, sort="price_asc")
    cheap_only = results_for(client, route, sort="price_desc", price_max="6000")

    assert flight_numbers(by_price) == ["AI205", "AI101", "AI877"]
    assert flight_numbers(cheap_only) == ["AI101", "AI205"]


def test_results_accept_the_autocomplete_text_and_hide_flights_without_enough_seats(client, route):
    Flight.objects.filter(pk=route.evening.pk).update(available_seats=1)

    response = results_for(client, route, origin="Mumbai (BOM)", destination="del")

    assert flight_numbers(response) == ["AI101", "AI205"]


def test_a_repeated_search_is_answered_from_the_search_cache_without_sql(
    client, route, django_assert_num_queries
):
    first = results_for(client, route, sort="price_asc")

    with django_assert_num_queries(0):
        second = results_for(client, route, sort="price_asc")

    assert first["X-Cache"] == "miss"
    assert second["X-Cache"] == "hit"
    assert flight_numbers(second) == flight_numbers(first) == ["AI205", "AI101", "AI877"]
    assert second.context["page"].paginator.count == 3
    assert "₹3,900" in second.content.decode()
    assert "AI205 · " in second.content.decode()  # the cached flights still carry their airplane and airports


def test_results_pages_are_cached_apart_and_keep_their_numbers(client, route, monkeypatch):
    monkeypatch.setattr("apps.flights.views.RESULTS_PER_PAGE", 2)
    results_for(client, route)

    second_page = results_for(client, route, page="2")
    again = results_for(client, route, page="2")

    assert second_page["X-Cache"] == "miss"
    assert again["X-Cache"] == "hit"
    assert flight_numbers(again) == ["AI877"]
    assert (again.context["page"].number, again.context["page"].paginator.num_pages) == (2, 2)
    assert "Page 2 of 2" in again.content.decode()


def test_a_staff_edit_shows_in_the_very_next_search(
    client, route, staff_client, django_capture_on_commit_callbacks
):
    results_for(client, route)
    assert results_for(client, route)["X-Cache"] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        edited = staff_client.patch(
            f"/api/v1/flights/{route.midday.pk}", {"base_fare": "4100.00"}, format="json"
        )

    after = results_for(client, route)
    assert edited.status_code == 200
    assert after["X-Cache"] == "miss"
    assert "₹4,100" in after.content.decode()
    assert "₹3,900" not in after.content.decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"origin": "Atlantis"}, "origin"),
        ({"destination": "BOM"}, "destination"),
        ({"destination": "Bombay"}, "destination"),
        ({"travellers": "12"}, "travellers"),
        ({"date": "31-12-2030"}, "date"),
        ({"price_min": "9000", "price_max": "100"}, "price_max"),
    ],
)
def test_malformed_search_shows_the_error_on_its_field_not_a_500(client, route, params, field):
    response = results_for(client, route, **params)

    assert response.status_code == 200
    assert response.context["page"] is None
    assert field in response.context["form"].errors
    assert "Check your search" in response.content.decode()


def test_seat_map_shows_cabins_taken_seats_and_one_select_per_traveller(client, route, customer):
    booking_hold_create(
        user=customer,
        flight_id=route.midday.pk,
        passengers=[{"first_name": "A", "last_name": "B"}],
        seats=["3C"],
    )

    response = client.get(f"/flights/{route.midday.pk}/", {"travellers": 2})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Business" in html
    assert "Economy" in html
    assert html.count('<select id="seat-') == 2
    assert 'data-seat="3C"' in html
    assert 'value="3C"' not in html
    assert 'value="3D"' in html
    assert "₹18,500" in html
    taken = [cell for cabin in response.context["cabins"] for _, row in cabin.rows for cell in row]
    assert [seat.code for seat in taken if hasattr(seat, "status") and seat.status == "taken"] == ["3C"]


def test_seat_map_of_an_unknown_flight_is_404(client, db):
    response = client.get("/flights/999999/")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("change", "heading", "reason"),
    [
        (
            {"status": Flight.Status.CANCELLED},
            "This flight is cancelled",
            "The airline cancelled flight AI205",
        ),
        (
            {"status": Flight.Status.DEPARTED},
            "This flight can no longer be booked",
            "The flight has departed.",
        ),
        ("cutoff", "This flight can no longer be booked", "Bookings close"),
    ],
)
def test_a_flight_no_longer_on_sale_says_why_and_offers_no_seats(
    client, route, settings, change, heading, reason
):
    if change == "cutoff":
        settings.BOOKING_MIN_MINUTES_BEFORE_DEPARTURE = 60 * 24 * 30  # five days out is inside it
    else:
        Flight.objects.filter(pk=route.midday.pk).update(**change)

    response = client.get(f"/flights/{route.midday.pk}/", {"travellers": 2})

    html = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in html
    assert reason in html
    assert "Choose 2 seats" not in html
    assert "seats free" not in html
    assert "data-seat=" not in html
    assert "<select" not in html
    assert "Continue to passenger details" not in html
    assert (
        f'href="/flights/?origin=BOM&amp;destination=DEL&amp;date={route.day.isoformat()}&amp;travellers=2"'
        in html
    )
