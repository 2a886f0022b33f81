from datetime import timedelta

import pytest
from django.utils import timezone

from apps.flights.models import Airplane, Flight
from apps.flights.tests.factories import AirplaneFactory, FlightFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_site(client, admin_user):
    client.force_login(admin_user)
    return client


def test_flight_list_filters_and_search(admin_site, bom, delhi, jfk):
    wanted = FlightFactory(flight_number="AI555", departure_airport=bom, arrival_airport=delhi)
    FlightFactory(flight_number="AI777", departure_airport=jfk, arrival_airport=delhi)

    by_airport = admin_site.get(
        "/admin/flights/flight/", {"departure_airport__id__exact": bom.pk, "status__exact": "scheduled"}
    )
    by_code = admin_site.get("/admin/flights/flight/", {"q": "JFK"})
    by_date = admin_site.get(
        "/admin/flights/flight/",
        {
            "departure_time__day": wanted.departure_time.day,
            "departure_time__month": wanted.departure_time.month,
            "departure_time__year": wanted.departure_time.year,
        },
    )

    assert by_airport.status_code == by_code.status_code == by_date.status_code == 200
    assert "AI555" in by_airport.text
    assert "AI777" not in by_airport.text
    assert "AI777" in by_code.text
    assert "AI555" not in by_code.text
    assert "AI555" in by_date.text


def admin_flight_form(airplane, **overrides) -> dict:
    departure = timezone.now() + timedelta(days=4)
    arrival = departure + timedelta(hours=2)
    data = {
        "flight_number": "AI808",
        "airplane": airplane.pk,
        "departure_airport": "",
        "arrival_airport": "",
        "departure_time_0": departure.strftime("%Y-%m-%d"),
        "departure_time_1": "10:00:00",
        "arrival_time_0": arrival.strftime("%Y-%m-%d"),
        "arrival_time_1": "12:00:00",
        "currency": "INR",
        "base_fare": "4500.00",
        "premium_economy_fare": "",
        "business_fare": "",
        "first_fare": "",
        "gate": "A1",
        "status": "scheduled",
    }
    data.update(overrides)
    return data


def test_adding_a_flight_in_the_admin_takes_seats_from_the_airplane(admin_site, bom, delhi):
    airplane = AirplaneFactory(layout__rows=12)

    response = admin_site.post(
        "/admin/flights/flight/add/",
        admin_flight_form(airplane, departure_airport=bom.pk, arrival_airport=delhi.pk),
    )

    assert response.status_code == 302, response.text[:2000]
    flight = Flight.objects.get()
    assert flight.total_seats == flight.available_seats == 72


def test_the_admin_shows_service_errors_on_the_form(admin_site, bom, delhi):
    airplane = AirplaneFactory(layout__rows=12, layout__business_rows=2)

    response = admin_site.post(
        "/admin/flights/flight/add/",
        admin_flight_form(airplane, departure_airport=bom.pk, arrival_airport=delhi.pk),
    )

    assert response.status_code == 200
    assert "the airplane has a business cabin" in response.text
    assert not Flight.objects.exists()


def test_editing_the_layout_in_the_admin_recomputes_capacity(admin_site):
    airplane = AirplaneFactory(layout__rows=10)
    section = airplane.cabin_sections.get()

    response = admin_site.post(
        f"/admin/flights/airplane/{airplane.pk}/change/",
        {
            "model_name": airplane.model_name,
            "registration": airplane.registration,
            "cabin_sections-TOTAL_FORMS": "1",
            "cabin_sections-INITIAL_FORMS": "1",
            "cabin_sections-MIN_NUM_FORMS": "0",
            "cabin_sections-MAX_NUM_FORMS": "1000",
            "cabin_sections-0-id": section.pk,
            "cabin_sections-0-airplane": airplane.pk,
            "cabin_sections-0-cabin": "economy",
            "cabin_sections-0-first_row": "1",
            "cabin_sections-0-last_row": "20",
            "cabin_sections-0-seat_letters": "ABCDEF",
        },
    )

    assert response.status_code == 302, response.text[:2000]
    assert Airplane.objects.get(pk=airplane.pk).capacity == 120


def test_the_layout_of_an_airplane_with_flights_is_read_only_in_the_admin(admin_site):
    flight = FlightFactory()

    response = admin_site.get(f"/admin/flights/airplane/{flight.airplane_id}/change/")

    assert response.status_code == 200
    assert "cabin_sections-0-last_row" not in response.text
