"""Changing a flight through the API (docs/API.md, "Changing a flight"): the options of a day, the quote,
the change with its token and an Idempotency-Key, every answer checked against the OpenAPI document by
schemathesis, and every refusal a problem that charged and moved nothing."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from apps.bookings.models import Booking, FlightChange, SeatAssignment
from apps.bookings.tests.factories import booking_flight
from apps.core.testing.openapi import api_schema, call_and_validate
from apps.flights.models import FareFamily
from apps.flights.search_cache import catalogue_version_bump
from apps.flights.services.fares import flight_family_fares_set
from apps.flights.tests.factories import flight_with_families
from apps.payments.models import GatewayCharge, Payment, Refund
from apps.payments.tests.changing import NEW_PRICES, change_route, paid_in, quote_of
from conftest import access_token_for, authenticated_client

pytestmark = pytest.mark.django_db


def signed_in(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token_for(user)}"}


def change(client, booking: Booking, body: dict, key: str | None = None):
    return client.post(
        f"/api/v1/bookings/{booking.reference}/change",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex,
    )


def assert_unchanged(booking: Booking, charges_before: int) -> None:
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert SeatAssignment.objects.get(booking=booking).flight_id == booking.flight_id
    assert not FlightChange.objects.filter(status=FlightChange.Status.DONE).exists()
    assert GatewayCharge.objects.exclude(status=GatewayCharge.Status.DECLINED).count() == charges_before
    assert not Refund.objects.exists()


def test_the_options_list_the_days_flights_with_what_each_costs(customer):
    old, new = change_route()
    flex_only = flight_with_families(
        booking_flight(
            departure_airport=old.departure_airport,
            arrival_airport=old.arrival_airport,
            departure_time=new.departure_time + timedelta(hours=1),
            arrival_time=new.arrival_time + timedelta(hours=1),
        ),
        {"ECO_FLEX": "6100.00"},
    )
    booking = paid_in(customer, old, "ECO_SAVER")

    response = call_and_validate(
        "GET",
        "/api/v1/bookings/{reference}/change-options",
        path_parameters={"reference": booking.reference},
        query={"segment": 1},
        headers=signed_in(customer),
    )

    body = response.json()
    assert (body["segment"], body["from_flight"]["id"], body["currency"]) == (1, old.pk, "INR")
    option, unavailable = body["options"]
    assert (option["flight"]["id"], option["available"], option["unavailable"]) == (new.pk, True, None)
    assert (unavailable["flight"]["id"], unavailable["available"], unavailable["quote"]) == (
        flex_only.pk,
        False,
        None,
    )
    assert unavailable["unavailable"]["code"] == "change_not_allowed"
    assert (option["fare_difference"], option["change_fee"], option["amount_due"], option["refund_due"]) == (
        "500.00",
        "3000.00",
        "3500.00",
        "0.00",
    )
    assert option["quote"]


def test_the_quote_says_each_passengers_price_and_changes_nothing(customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_FLEX")

    response = call_and_validate(
        "GET",
        "/api/v1/bookings/{reference}/change-quote",
        path_parameters={"reference": booking.reference},
        query={"segment": 1, "to_flight_id": new.pk},
        headers=signed_in(customer),
    )

    body = response.json()
    assert (body["from_flight"]["id"], body["to_flight"]["id"]) == (old.pk, new.pk)
    assert body["lines"] == [
        {
            "passenger": "Pax1 Traveller",
            "type": "adult",
            "seat": SeatAssignment.objects.get(booking=booking).seat_code,
            "fare_family": "ECO_FLEX",
            "old_price": "6200.00",
            "new_price": "6000.00",
            "difference": "-200.00",
            "fee": "0.00",
            "refundable": True,
        }
    ]
    assert (body["amount_due"], body["refund_due"], body["residual_kept"]) == ("0.00", "200.00", "0.00")
    assert SeatAssignment.objects.get(booking=booking).flight_id == old.pk


def test_a_change_with_its_quote_is_charged_once_and_a_retry_replays_it(customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    token = quote_of(booking, new).token
    body = {"segment": 1, "to_flight_id": new.pk, "quote": token, "payment_method": "tok_visa"}

    response = call_and_validate(
        "POST",
        "/api/v1/bookings/{reference}/change",
        path_parameters={"reference": booking.reference},
        body=body,
        headers={**signed_in(customer), "Idempotency-Key": "change-k1"},
    )
    client = authenticated_client(customer)
    replay = change(client, booking, body, key="change-k1")

    assert response.status_code == 200
    answer = response.json()
    assert (answer["status"], answer["amount_charged"], answer["amount_refunded"]) == (
        "done",
        "3500.00",
        "0.00",
    )
    assert answer["booking"]["flight"]["id"] == new.pk
    assert (answer["booking"]["total_amount"], answer["booking"]["price"]["total"]) == ("5000.00", "5000.00")
    payment = client.get(f"/api/v1/payments/{answer['payment_id']}").json()
    assert (payment["kind"], payment["status"], payment["amount"]) == ("change", "succeeded", "3500.00")
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (200, "true")
    assert replay.json() == answer
    assert Payment.objects.filter(kind=Payment.Kind.CHANGE).count() == 1
    assert GatewayCharge.objects.filter(amount=Decimal("3500.00")).count() == 1


def test_a_change_that_refunds_needs_no_card(customer, customer_client):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_FLEX")

    response = change(
        customer_client, booking, {"to_flight_id": new.pk, "quote": quote_of(booking, new).token}
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["amount_refunded"], response.json()["payment_id"]) == ("200.00", None)
    assert list(Refund.objects.values_list("kind", "amount")) == [(Refund.Kind.CHANGE, Decimal("200.00"))]


def test_a_stale_quote_is_a_409_and_nothing_is_charged_or_moved(customer, customer_client):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    token = quote_of(booking, new).token
    flight_family_fares_set(flight_id=new.pk, prices={**NEW_PRICES, "ECO_SAVER": "5200.00"})

    response = change(
        customer_client, booking, {"to_flight_id": new.pk, "quote": token, "payment_method": "tok_visa"}
    )

    assert (response.status_code, response.json()["code"]) == (409, "quote_changed")
    assert response["Content-Type"] == "application/problem+json"
    assert_unchanged(booking, charges_before=1)


def test_a_declined_card_is_a_402_and_nothing_moves(customer, customer_client):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    body = {
        "to_flight_id": new.pk,
        "quote": quote_of(booking, new).token,
        "payment_method": "tok_chargeDeclined",
    }

    response = change(customer_client, booking, body)

    assert (response.status_code, response.json()["code"]) == (402, "payment_declined")
    assert_unchanged(booking, charges_before=1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payment_method": None}, "payment_method"),  # a change that costs something needs a card
        ({"quote": "not-a-quote"}, "quote"),
        ({"segment": 5}, "segment"),
    ],
)
def test_a_bad_request_is_a_400_naming_its_field(customer, customer_client, body, field):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    given = {
        "to_flight_id": new.pk,
        "quote": quote_of(booking, new).token,
        "payment_method": "tok_visa",
        **body,
    }

    response = change(
        customer_client, booking, {key: value for key, value in given.items() if value is not None}
    )

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert_unchanged(booking, charges_before=1)


def test_a_quote_for_another_flight_is_refused_as_invalid(customer, customer_client):
    old, new = change_route()
    _, elsewhere = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")

    response = change(
        customer_client,
        booking,
        {"to_flight_id": elsewhere.pk, "quote": quote_of(booking, new).token, "payment_method": "tok_visa"},
    )

    assert (response.status_code, response.json()["code"]) == (400, "quote_invalid")
    assert_unchanged(booking, charges_before=1)


def test_without_an_idempotency_key_nothing_is_charged(customer, customer_client):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")

    response = customer_client.post(
        f"/api/v1/bookings/{booking.reference}/change",
        {"to_flight_id": new.pk, "quote": quote_of(booking, new).token, "payment_method": "tok_visa"},
        format="json",
    )

    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_missing")
    assert_unchanged(booking, charges_before=1)


def test_someone_elses_booking_is_a_404_and_a_fare_without_changes_a_409(
    customer, other_customer_client, customer_client
):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    body = {"to_flight_id": new.pk, "quote": quote_of(booking, new).token, "payment_method": "tok_visa"}

    stranger = change(other_customer_client, booking, body)
    FareFamily.objects.filter(code="ECO_SAVER").update(change_allowed=False)
    catalogue_version_bump()
    quote = customer_client.get(
        f"/api/v1/bookings/{booking.reference}/change-quote", {"to_flight_id": new.pk}
    )
    options = customer_client.get(f"/api/v1/bookings/{booking.reference}/change-options")

    assert (stranger.status_code, stranger.json()["code"]) == (404, "booking_not_found")
    assert (quote.status_code, quote.json()["code"]) == (409, "change_not_allowed")
    assert (options.status_code, options.json()["code"]) == (409, "change_not_allowed")
    assert_unchanged(booking, charges_before=1)


def test_the_schema_documents_the_change_and_its_payment(customer):
    document = api_schema().raw_schema
    schemas = document["components"]["schemas"]
    change_operation = document["paths"]["/api/v1/bookings/{reference}/change"]["post"]

    assert set(schemas["PaymentOutput"]["properties"]) >= {"kind", "refunded_amount"}
    assert set(schemas["FlightChangeOutput"]["properties"]) == {
        "id", "status", "segment", "from_flight_id", "to_flight_id", "currency", "fare_difference",
        "change_fee", "residual_kept", "amount_charged", "amount_refunded", "payment_id", "booking",
    }  # fmt: skip
    assert {"quote", "to_flight_id", "segment", "payment_method"} == set(
        schemas["BookingChangeInputRequest"]["properties"]
    )
    assert any(parameter["name"] == "Idempotency-Key" for parameter in change_operation["parameters"])
    assert "examples" in change_operation["requestBody"]["content"]["application/json"]
    quote_answer = document["paths"]["/api/v1/bookings/{reference}/change-quote"]["get"]["responses"]["200"]
    assert "examples" in quote_answer["content"]["application/json"]
    assert {"amount_due", "refund_due", "residual_kept", "lines", "quote"} <= set(
        schemas["ChangeQuoteOutput"]["properties"]
    )
