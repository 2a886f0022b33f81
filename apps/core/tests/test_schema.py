import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework import serializers

from apps.core.testing.openapi import api_schema
from apps.flights.api.flights import FlightInput
from apps.flights.models import MAX_PARTY_SIZE
from apps.payments.api.views import PaymentCreateApi

pytestmark = pytest.mark.django_db

# What anyone may read without signing in (docs/API.md, "Authentication").
PUBLIC_READS = [
    ("GET", "/api/v1/cities"),
    ("GET", "/api/v1/airports"),
    ("GET", "/api/v1/airplanes"),
    ("GET", "/api/v1/airplanes/{airplane_id}"),
    ("GET", "/api/v1/flights"),
    ("GET", "/api/v1/flights/{flight_id}"),
    ("GET", "/api/v1/flights/{flight_id}/seats"),
    ("GET", "/api/v1/flights/fares-by-day"),
    ("GET", "/api/v1/journeys"),
]
# What needs no account at all: it signs up, or signs in.
NO_ACCOUNT = [
    ("POST", "/api/v1/auth/signup"),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/token/refresh"),
]
LISTS = ["/api/v1/cities", "/api/v1/airports", "/api/v1/airplanes", "/api/v1/flights", "/api/v1/bookings"]


@pytest.fixture(scope="module")
def document() -> dict:
    return api_schema().raw_schema


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def problem_codes(response: dict) -> list[str]:
    """The `code`s a documented problem+json answer may carry."""
    schema = response["content"]["application/problem+json"]["schema"]
    return schema["allOf"][1]["properties"]["code"]["enum"]


def test_openapi_schema_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    assert "/api/v1/auth/signup" in out.read_text()


def test_api_docs_page_is_served(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


# --- security -----------------------------------------------------------------------------------------


def test_public_reads_need_no_sign_in_and_take_a_bearer_token(document):
    for method, path, operation in operations(document):
        if (method, path) in PUBLIC_READS:
            assert operation["security"] == [{"jwtAuth": []}, {}], (method, path)


def test_everything_else_needs_a_bearer_token(document):
    for method, path, operation in operations(document):
        if (method, path) in NO_ACCOUNT:
            assert {} in operation["security"], (method, path)
        elif (method, path) not in PUBLIC_READS:
            assert operation["security"] == [{"jwtAuth": []}], (method, path)


# --- error answers -----------------------------------------------------------------------------------


def test_every_operation_documents_its_problems_with_their_headers(document):
    for method, path, operation in operations(document):
        responses = operation["responses"]
        errors = {status: response for status, response in responses.items() if status >= "400"}

        assert "503" in errors, (method, path)  # a database that does not answer, anywhere
        for status, response in errors.items():
            assert list(response["content"]) == ["application/problem+json"], (method, path, status)
            assert problem_codes(response), (method, path, status)
        if "401" in errors:
            assert errors["401"]["headers"]["WWW-Authenticate"]["required"] is True
        for status in ("429", "503"):
            if status in errors:
                assert errors[status]["headers"]["Retry-After"]["required"] is True, (method, path)


def test_a_hold_documents_each_refusal(document):
    responses = document["paths"]["/api/v1/bookings"]["post"]["responses"]

    documented = {status: sorted(problem_codes(r)) for status, r in responses.items() if status >= "400"}

    assert documented == {
        "400": [
            "idempotency_key_invalid",
            "idempotency_key_missing",
            "malformed_request",
            "validation_error",
        ],
        "401": ["authentication_failed", "not_authenticated"],
        "404": ["flight_not_found"],
        "409": ["busy", "flight_not_bookable", "idempotency_key_in_use", "seat_unavailable", "sold_out"],
        "413": ["request_too_large"],
        "415": ["unsupported_media_type"],
        "422": ["idempotency_key_reused", "seat_unknown"],
        "429": ["rate_limited"],
        "503": ["service_unavailable"],
    }
    assert responses["409"]["headers"]["Retry-After"]["required"] is False  # busy and in_use only


def test_staff_writes_document_a_403_and_reads_do_not(document):
    for method, path, operation in operations(document):
        if path.startswith(("/api/v1/airplanes", "/api/v1/flights")):
            assert ("403" in operation["responses"]) == (method != "GET"), (method, path)


def test_every_documented_code_is_in_the_guide(document):
    guide = (Path(settings.BASE_DIR) / "docs" / "API.md").read_text()
    table = guide[guide.index("## Errors") : guide.index("## Rate limits")]
    codes = {
        code
        for _, _, operation in operations(document)
        for status, response in operation["responses"].items()
        if status >= "400"
        for code in problem_codes(response)
    }

    assert sorted(code for code in codes if f"`{code}`" not in table) == []


# --- parameters and fields ---------------------------------------------------------------------------


def test_lists_say_which_pages_exist(document):
    for path in LISTS:
        parameters = {p["name"]: p["schema"] for p in document["paths"][path]["get"]["parameters"]}

        assert parameters["page"] == {"type": "integer", "minimum": 1}, path
        assert parameters["page_size"] == {"type": "integer", "minimum": 1, "maximum": 100}, path


def test_nested_lists_are_bounded_as_their_serializers_bound_them(document):
    schemas = document["components"]["schemas"]
    passengers = schemas["HoldInputRequest"]["properties"]["passengers"]
    sections = schemas["AirplaneInputRequest"]["properties"]["cabin_sections"]

    assert (passengers["minItems"], passengers["maxItems"]) == (1, MAX_PARTY_SIZE)
    assert sections["minItems"] == 1


WHITESPACE = [chr(code) for code in range(0x110000) if chr(code).isspace()]


def test_text_that_must_not_be_blank_says_so_as_python_strips_it(document):
    signup = document["components"]["schemas"]["UserSignupInputRequest"]["properties"]
    name = signup["name"]["pattern"]

    assert [space for space in WHITESPACE if re.search(name, space * 3)] == []
    assert re.search(name, " Asha ")
    assert re.search(name, "\ufeff")  # not whitespace to Python: a name str.strip() keeps
    assert "pattern" not in signup["password"]  # a password is taken as typed, spaces too


def test_an_idempotency_key_is_described_as_it_is_checked(document):
    parameters = document["paths"]["/api/v1/bookings"]["post"]["parameters"]
    key = next(parameter for parameter in parameters if parameter["name"] == "Idempotency-Key")

    assert key["required"] is True
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 255)
    assert [space for space in WHITESPACE if re.search(key["schema"]["pattern"], space)] == []


def test_a_seat_is_null_once_released(document):
    seat = document["components"]["schemas"]["PassengerOutput"]["properties"]["seat"]

    assert seat["nullable"] is True


def decimal_taken(field: serializers.DecimalField, text: str) -> bool:
    try:
        field.run_validation(text)
    except serializers.ValidationError:
        return False
    return True


DECIMAL_TEXTS = [
    "", "-", ".", "-.", "+", "0", "00", "7", "-7", "12.5", "12.50", "12.505", ".5", "5.", "-0.01",
    "12345678", "123456789", "1234567890", "12345678901", "1e3", " 5", "5 ", "1,5", "0x10", "NaN",
]  # fmt: skip


@pytest.mark.parametrize(
    ("schema_name", "field"),
    [
        ("PaymentCreateInputRequest", PaymentCreateApi.Input().fields["amount"]),  # not negative
        ("FlightInputRequest", FlightInput().fields["base_fare"]),
        ("FlightInputRequest", FlightInput().fields["first_fare"]),  # nullable
    ],
)
def test_a_decimals_pattern_admits_only_what_its_field_takes(document, schema_name, field):
    pattern = document["components"]["schemas"][schema_name]["properties"][field.field_name]["pattern"]

    admitted = [text for text in DECIMAL_TEXTS if re.search(pattern, text)]

    assert {"0", "12.5", ".5", "5."} <= set(admitted)
    assert [text for text in admitted if not decimal_taken(field, text)] == []
