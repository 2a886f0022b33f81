"""Staff set fare families and each flight's family prices in the admin (apps/flights/admin.py)."""

from decimal import Decimal

import pytest

from apps.flights.models import Flight
from apps.flights.tests.factories import AirplaneFactory, AirportFactory, FlightFactory, standard_families
from apps.flights.tests.test_admin import admin_flight_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_site(client, admin_user):
    client.force_login(admin_user)
    return client


def test_a_flight_added_with_family_prices_sells_them_and_its_economy_fare_is_the_cheapest(admin_site):
    standard_families()
    airplane = AirplaneFactory(layout__rows=12)
    form = admin_flight_form(
        airplane,
        departure_airport=AirportFactory().pk,
        arrival_airport=AirportFactory().pk,
        family_price_ECO_SAVER="3999.00",
        family_price_ECO_FLEX="5499.00",
    )

    response = admin_site.post("/admin/flights/flight/add/", form)

    assert response.status_code == 302, response.text[:3000]
    flight = Flight.objects.get()
    assert flight.family_fares == {
        "ECO_SAVER": {"cabin": "economy", "price": "3999.00"},
        "ECO_FLEX": {"cabin": "economy", "price": "5499.00"},
    }
    assert flight.base_fare == Decimal("3999.00")


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        ({"family_price_BUS_FLEX": "15000.00"}, "The airplane has no business cabin."),
        ({"family_price_ECO_FLEX": "-10.00"}, "Must be a positive amount"),
    ],
)
def test_a_family_price_the_flight_cannot_sell_is_an_error_on_its_field_and_nothing_is_saved(
    admin_site, prices, message
):
    standard_families()
    flight = FlightFactory(airplane__layout__rows=12, business_fare=None)
    form = admin_flight_form(
        flight.airplane,
        flight_number=flight.flight_number,
        departure_airport=flight.departure_airport.pk,
        arrival_airport=flight.arrival_airport.pk,
        departure_time_0=flight.departure_time.strftime("%Y-%m-%d"),
        departure_time_1=flight.departure_time.strftime("%H:%M:%S"),
        arrival_time_0=flight.arrival_time.strftime("%Y-%m-%d"),
        arrival_time_1=flight.arrival_time.strftime("%H:%M:%S"),
        gate="Z9",
        **prices,
    )

    response = admin_site.post(f"/admin/flights/flight/{flight.pk}/change/", form)

    assert response.status_code == 200
    assert message in response.text, response.context["adminform"].form.errors
    flight.refresh_from_db()
    assert (flight.family_fares, flight.gate) == ({}, "A12")


def test_a_family_is_edited_but_its_code_and_cabin_are_fixed_and_it_cannot_be_deleted(admin_site):
    family = standard_families()["ECO_FLEX"]

    page = admin_site.get(f"/admin/flights/farefamily/{family.pk}/change/")
    delete = admin_site.get(f"/admin/flights/farefamily/{family.pk}/delete/")

    assert page.status_code == 200
    assert 'name="code"' not in page.text
    assert 'name="cabin"' not in page.text
    assert 'name="refund_fee"' in page.text
    assert delete.status_code == 403


def test_an_airport_charge_needs_its_currency_and_name(admin_site):
    airport = AirportFactory()

    response = admin_site.post(
        f"/admin/flights/airport/{airport.pk}/change/",
        {
            "iata_code": airport.iata_code,
            "name": airport.name,
            "city": airport.city.pk,
            "time_zone": airport.time_zone,
            "latitude": airport.latitude,
            "longitude": airport.longitude,
            "departure_charge_name": "",
            "departure_charge": "620.00",
            "departure_charge_currency": "",
        },
    )

    assert response.status_code == 200
    assert "Give the currency the airport charges in." in response.text
    airport.refresh_from_db()
    assert airport.departure_charge is None
