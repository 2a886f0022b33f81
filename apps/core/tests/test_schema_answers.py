"""Real error answers, checked against what /api/schema/ documents for them (status, problem+json
body with its code, Retry-After and WWW-Authenticate headers) by every schemathesis check."""

import uuid

import pytest

from apps.bookings.tests.factories import booking_flight, hold
from apps.core.testing.openapi import call_and_validate
from conftest import access_token_for

pytestmark = pytest.mark.django_db


def signed_in(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token_for(user)}"}


def test_a_bad_bearer_token_on_a_public_read_is_a_documented_401():
    response = call_and_validate("GET", "/api/v1/cities", headers={"Authorization": "Bearer not-a-token"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == ['Bearer realm="api"']


def test_anyone_reads_a_flight_without_signing_in():
    flight = booking_flight(rows=2, letters="AB")

    response = call_and_validate(
        "GET", "/api/v1/flights/{flight_id}", path_parameters={"flight_id": flight.pk}
    )

    assert response.status_code == 200


def test_a_page_past_the_last_is_a_documented_404():
    response = call_and_validate("GET", "/api/v1/cities", query={"page": 2})

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_a_customer_writing_the_catalogue_is_a_documented_403(customer):
    response = call_and_validate(
        "DELETE",
        "/api/v1/airplanes/{airplane_id}",
        path_parameters={"airplane_id": 1},
        headers=signed_in(customer),
    )

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_the_last_seat_sold_twice_is_a_documented_409(customer, other_customer):
    flight = booking_flight(rows=1, letters="A", business_fare=None)
    hold(other_customer, flight)

    response = call_and_validate(
        "POST",
        "/api/v1/bookings",
        body={"flight_id": flight.pk, "passengers": [{"first_name": "Ada", "last_name": "Lovelace"}]},
        headers={**signed_in(customer), "Idempotency-Key": uuid.uuid4().hex},
    )

    assert (response.status_code, response.json()["code"]) == (409, "sold_out")


def test_a_seat_the_airplane_lacks_is_a_documented_422(customer):
    flight = booking_flight(rows=1, letters="A", business_fare=None)

    response = call_and_validate(
        "POST",
        "/api/v1/bookings",
        body={
            "flight_id": flight.pk,
            "passengers": [{"first_name": "Ada", "last_name": "Lovelace"}],
            "seats": ["9Z"],
        },
        headers={**signed_in(customer), "Idempotency-Key": uuid.uuid4().hex},
    )

    assert (response.status_code, response.json()["code"]) == (422, "seat_unknown")


def test_a_search_over_the_limit_is_a_documented_429_with_retry_after(settings):
    settings.RATELIMIT_SEARCH = "0/m"

    response = call_and_validate("GET", "/api/v1/flights")

    assert (response.status_code, response.json()["code"]) == (429, "rate_limited")
    assert int(response.headers["retry-after"][0]) >= 1
