"""Odd but possible query values are 400s naming the parameter (or a form error), never a 500."""

import pytest

from apps.flights.tests.factories import FlightFactory, delhi_airport, mumbai_airport

pytestmark = pytest.mark.django_db

SUPERSCRIPT_TWO = "\u00b2"  # str.isdigit() is True for it, int() refuses it


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        (f"/api/v1/flights?travellers={SUPERSCRIPT_TWO}", "travellers"),
        (f"/api/v1/flights?page={SUPERSCRIPT_TWO}", "page"),
        (f"/api/v1/cities?page_size={SUPERSCRIPT_TWO}", "page_size"),
        ("/api/v1/flights?tripDate=9999-12-31", "tripDate"),
        ("/api/v1/flights?tripDate=0001-01-01", "tripDate"),
    ],
)
def test_unicode_digits_and_calendar_edges_are_400s_naming_the_parameter(api_client, path, parameter):
    FlightFactory()

    response = api_client.get(path)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert parameter in response.json()["errors"]


def test_bookings_page_with_unicode_digits_is_a_400(customer_client):
    response = customer_client.get(f"/api/v1/bookings?page={SUPERSCRIPT_TWO}")

    assert response.status_code == 400
    assert "page" in response.json()["errors"]


@pytest.mark.parametrize("query", [f"&page={SUPERSCRIPT_TWO}", "&date=9999-12-31", "&date=0001-01-01"])
def test_results_page_with_odd_values_answers_without_a_server_error(client, query):
    FlightFactory(departure_airport=mumbai_airport(), arrival_airport=delhi_airport())

    response = client.get(f"/flights/?origin=BOM&destination=DEL&travellers=1{query}")

    assert response.status_code in (200, 400)
