import json
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from apps.accounts.tests.factories import with_permissions
from apps.bookings.api.serializers import BookingOutput, booking_body
from apps.bookings.events import booking_held
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.selectors import booking_get
from apps.bookings.services import booking_cancel
from apps.bookings.tests.factories import booking_flight, hold, make_status, passengers
from apps.bookings.tests.racing import race
from apps.core.models import IdempotencyKey
from apps.core.testing.openapi import call_and_validate
from apps.flights.models import Flight
from conftest import access_token_for, authenticated_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/bookings"
ADULT = {"last_name": "Traveller", "type": "adult", "date_of_birth": None, "travelling_with": None}


def keyed_post(client, url, data=None, **kwargs):
    """POST with a fresh Idempotency-Key, as every client of these endpoints must send one."""
    return client.post(url, data, HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, **kwargs)


def test_post_without_an_idempotency_key_is_a_400_and_takes_no_seat(customer_client, flight):
    response = customer_client.post(URL, {"flight_id": flight.pk, "passengers": passengers(1)}, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_missing")
    assert not SeatAssignment.objects.exists()


def test_a_retried_hold_with_the_same_key_replays_and_holds_once(customer_client, flight):
    body = {"flight_id": flight.pk, "passengers": passengers(2)}

    first = customer_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="hold-1")
    retry = customer_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="hold-1")

    assert first.status_code == retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert Booking.objects.count() == 1
    flight.refresh_from_db()
    assert flight.available_seats == flight.total_seats - 2


def test_post_holds_seats_and_returns_the_booking(strategy, customer_client, flight):
    body = {"flight_id": flight.pk, "passengers": passengers(2), "seats": ["12A", "12B"]}

    response = keyed_post(customer_client, URL, body, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "held"
    assert data["seats"] == ["12A", "12B"]
    assert data["passengers"] == [
        {**ADULT, "first_name": "Pax1", "seat": "12A"},
        {**ADULT, "first_name": "Pax2", "seat": "12B"},
    ]
    assert data["total_amount"] == "9000.00"
    assert data["currency"] == "INR"
    assert data["flight"]["id"] == flight.pk
    assert data["flight"]["flight_number"] == flight.flight_number
    assert data["flight"]["departure_airport"]["code"] == flight.departure_airport.iata_code
    assert data["flight"]["available_seats"] == 114
    assert (
        Booking.objects.get(reference=data["reference"])
        .hold_expires_at.isoformat()
        .startswith(data["hold_expires_at"][:19])
    )


def test_post_without_seats_assigns_them(customer_client, flight):
    response = keyed_post(
        customer_client, URL, {"flight_id": flight.pk, "passengers": passengers(3)}, format="json"
    )

    assert response.status_code == 201
    assert len(response.json()["seats"]) == 3


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"passengers": []}, 400, "validation_error"),
        ({"passengers": passengers(10)}, 400, "validation_error"),
        ({"passengers": [{"first_name": "  ", "last_name": "Doe"}]}, 400, "validation_error"),
        ({"passengers": [{"first_name": "Jo"}]}, 400, "validation_error"),
        ({"seats": ["12A", "12A"], "passengers": passengers(2)}, 400, "validation_error"),
        ({"seats": ["99Z"]}, 422, "seat_unknown"),
        ({"seats": ["1B"]}, 422, "seat_unknown"),
        ({"flight_id": 987654}, 404, "flight_not_found"),
        ({"flight_id": "abc"}, 400, "validation_error"),
    ],
)
def test_bad_input_is_a_problem_and_takes_no_seat(strategy, customer_client, flight, body, status, code):
    request = {"flight_id": flight.pk, "passengers": passengers(1)} | body

    response = keyed_post(customer_client, URL, request, format="json")

    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert not SeatAssignment.objects.exists()
    flight.refresh_from_db()
    assert flight.available_seats == 116


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Flight.Status.CANCELLED},
        {"status": Flight.Status.DEPARTED},
        {"departure_time": timezone.now() + timedelta(minutes=29)},
    ],
    ids=["cancelled", "departed", "leaves-in-29-minutes"],
)
def test_unbookable_flight_is_a_409_problem(strategy, customer_client, fields):
    flight = booking_flight(rows=5, **fields)

    response = keyed_post(
        customer_client, URL, {"flight_id": flight.pk, "passengers": passengers(1)}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "flight_not_bookable"
    assert not SeatAssignment.objects.exists()


def test_taken_seat_and_sold_out_are_409_problems(strategy, customer, customer_client):
    flight = booking_flight(rows=1, letters="AB")
    hold(customer, flight, seats=["1A"])

    taken = keyed_post(
        customer_client,
        URL,
        {"flight_id": flight.pk, "passengers": passengers(1), "seats": ["1A"]},
        format="json",
    )
    sold_out = keyed_post(
        customer_client, URL, {"flight_id": flight.pk, "passengers": passengers(2)}, format="json"
    )

    assert (taken.status_code, taken.json()["code"]) == (409, "seat_unavailable")
    assert (sold_out.status_code, sold_out.json()["code"]) == (409, "sold_out")
    flight.refresh_from_db()
    assert flight.available_seats == 1


def test_anonymous_cannot_book_or_list(api_client, flight):
    post = keyed_post(api_client, URL, {"flight_id": flight.pk, "passengers": passengers(1)}, format="json")
    listing = api_client.get(URL)

    assert (post.status_code, post.json()["code"]) == (401, "not_authenticated")
    assert listing.status_code == 401
    assert not SeatAssignment.objects.exists()


def test_list_shows_own_bookings_newest_first_and_staff_sees_all(
    customer, other_customer, customer_client, staff_client, flight
):
    first = hold(customer, flight)
    second = hold(customer, flight)
    theirs = hold(other_customer, flight)

    own = customer_client.get(URL).json()
    everyone = staff_client.get(URL).json()

    assert [b["reference"] for b in own["results"]] == [second.reference, first.reference]
    assert own["count"] == 2
    assert {b["reference"] for b in everyone["results"]} == {
        first.reference,
        second.reference,
        theirs.reference,
    }


def test_list_filters_by_status(customer, customer_client, flight):
    held = hold(customer, flight)
    confirmed = hold(customer, flight)
    make_status(confirmed, Booking.Status.CONFIRMED)

    response = customer_client.get(URL, {"status": "held"})
    bad = customer_client.get(URL, {"status": "lost"})

    assert [b["reference"] for b in response.json()["results"]] == [held.reference]
    assert bad.status_code == 400
    assert "status" in bad.json()["errors"]


def test_a_blank_status_is_a_400_naming_it_not_every_booking(customer, customer_client, flight):
    hold(customer, flight)

    response = customer_client.get(URL, {"status": ""})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["status"]


def test_a_cancelled_bookings_answer_has_no_seats_as_the_schema_says(customer, flight):
    booking = booking_cancel(booking=hold(customer, flight, count=2), actor=customer)

    response = call_and_validate(
        "GET",
        "/api/v1/bookings/{reference}",
        path_parameters={"reference": booking.reference},
        headers={"Authorization": f"Bearer {access_token_for(customer)}"},
    )

    assert [passenger["seat"] for passenger in response.json()["passengers"]] == [None, None]


def test_list_runs_a_constant_number_of_queries(customer, customer_client, flight):
    hold(customer, flight, count=2)
    with CaptureQueriesContext(connection) as one:
        customer_client.get(URL)
    for _ in range(5):
        hold(customer, flight, count=3)

    with CaptureQueriesContext(connection) as six:
        response = customer_client.get(URL)

    assert len(response.json()["results"]) == 6
    assert len(six) == len(one)


def test_detail_for_owner_and_staff_404_for_others(
    customer, customer_client, other_customer_client, staff_client, flight
):
    booking = hold(customer, flight, seats=["5C"])

    own = customer_client.get(f"{URL}/{booking.reference.lower()}")
    staff = staff_client.get(f"{URL}/{booking.reference}")
    other = other_customer_client.get(f"{URL}/{booking.reference}")

    assert own.status_code == 200
    assert own.json()["seats"] == ["5C"]
    assert staff.status_code == 200
    assert (other.status_code, other.json()["code"]) == (404, "booking_not_found")


def test_cancel_releases_the_seats(customer, customer_client, flight):
    booking = hold(customer, flight, count=2)

    response = keyed_post(customer_client, f"{URL}/{booking.reference}/cancel")
    again = keyed_post(customer_client, f"{URL}/{booking.reference}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["seats"] == []
    assert [p["seat"] for p in response.json()["passengers"]] == [None, None]
    assert (again.status_code, again.json()["code"]) == (409, "booking_not_cancellable")
    flight.refresh_from_db()
    assert flight.available_seats == 116


def test_cancel_of_someone_elses_booking_is_a_404_and_changes_nothing(
    customer, other_customer_client, flight
):
    booking = hold(customer, flight)

    response = keyed_post(other_customer_client, f"{URL}/{booking.reference}/cancel")

    assert (response.status_code, response.json()["code"]) == (404, "booking_not_found")
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD


def test_staff_without_the_view_permission_see_only_their_own_bookings(
    customer, bare_staff_user, bare_staff_client, flight
):
    # given a staff user with no group (no bookings.view_booking), their booking and a customer's
    own = hold(bare_staff_user, flight)
    theirs = hold(customer, flight)

    # when they list bookings and ask for each
    listed = bare_staff_client.get(URL)
    own_detail = bare_staff_client.get(f"{URL}/{own.reference}")
    their_detail = bare_staff_client.get(f"{URL}/{theirs.reference}")

    # then they are answered as a customer is: their own only, anyone else's is a 404
    assert (listed.json()["count"], [b["reference"] for b in listed.json()["results"]]) == (
        1,
        [own.reference],
    )
    assert own_detail.status_code == 200
    assert (their_detail.status_code, their_detail.json()["code"]) == (404, "booking_not_found")


def test_staff_without_the_permissions_cancelling_a_customers_booking_get_a_404_and_change_nothing(
    customer, bare_staff_client, flight
):
    # given a customer's hold of two seats, and a staff user with no group
    booking = hold(customer, flight, count=2)

    # when the staff user cancels it
    response = keyed_post(bare_staff_client, f"{URL}/{booking.reference}/cancel")

    # then it is not theirs to see: 404, the booking still held with its seats
    assert (response.status_code, response.json()["code"]) == (404, "booking_not_found")
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD
    flight.refresh_from_db()
    assert flight.available_seats == flight.total_seats - 2


def test_staff_who_may_see_but_not_change_bookings_get_a_403_cancelling_a_customers_booking(
    customer, bare_staff_user, flight
):
    # given a customer's hold, and a staff user granted bookings.view_booking only
    booking = hold(customer, flight, count=2)
    viewer = authenticated_client(with_permissions(bare_staff_user, "bookings.view_booking"))

    # when the staff user reads it, then cancels it
    seen = viewer.get(f"{URL}/{booking.reference}")
    response = keyed_post(viewer, f"{URL}/{booking.reference}/cancel")

    # then they see it, but cancelling needs bookings.change_booking: 403, nothing changed
    assert seen.status_code == 200
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD
    flight.refresh_from_db()
    assert flight.available_seats == flight.total_seats - 2


def test_cancel_while_paying_is_a_409_with_retry_after(customer, customer_client, flight):
    booking = hold(customer, flight)
    make_status(booking, Booking.Status.PAYING)

    response = keyed_post(customer_client, f"{URL}/{booking.reference}/cancel")

    assert (response.status_code, response.json()["code"]) == (409, "payment_in_progress")
    assert response["Retry-After"] == "5"


@pytest.fixture
def short_lock_wait(settings):
    """This connection waits 1 s for a row lock instead of DB_LOCK_WAIT_TIMEOUT_SECONDS."""
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = %s", [settings.DB_LOCK_WAIT_TIMEOUT_SECONDS])


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_flight_locked_too_long_is_a_409_busy_with_retry_after(customer_client, flight, short_lock_wait):
    # given another transaction holding the flight's lock for longer than two lock waits
    locked, release = threading.Event(), threading.Event()

    def lock_holder() -> None:
        try:
            with transaction.atomic():
                Flight.objects.select_for_update().get(pk=flight.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=lock_holder)
    holder.start()
    assert locked.wait(timeout=10)

    # when a hold is asked for meanwhile (the pessimistic strategy waits for that lock)
    try:
        response = keyed_post(
            customer_client, URL, {"flight_id": flight.pk, "passengers": passengers(1)}, format="json"
        )
    finally:
        release.set()
        holder.join(timeout=10)

    # then, after one retry, the client is told to come back, and nothing was taken
    assert (response.status_code, response.json()["code"]) == (409, "busy")
    assert response["Retry-After"] == "1"
    assert not SeatAssignment.objects.exists()
    flight.refresh_from_db()
    assert flight.available_seats == 116


def test_the_booking_body_is_the_booking_serializers_json(customer, flight):
    held = hold(customer, flight, count=3)
    booking_cancel(booking=hold(customer, flight, count=1), actor=customer)
    for booking in Booking.objects.all():
        loaded = booking_get(booking_id=booking.pk)

        assert booking_body(loaded, loaded.passengers.all()) == json.loads(
            json.dumps(BookingOutput(loaded).data, cls=JSONEncoder)
        )
    # and what a hold answers from memory is what reading the booking back gives
    loaded = booking_get(booking_id=held.pk)
    assert booking_body(held, held.passengers_held) == booking_body(loaded, loaded.passengers.all())


# --- A hold and its Idempotency-Key are one transaction ---------------------------------------------


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_of_a_hold_hold_once_and_all_answer_alike(strategy, customer):
    # given ten copies of one request, the same key and body, sent at once
    flight = booking_flight(rows=20)
    body = {"flight_id": flight.pk, "passengers": passengers(2)}
    start = threading.Barrier(10)

    def send():
        client = authenticated_client(customer)
        start.wait(timeout=10)
        return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="double-click")

    responses = race([send] * 10)

    # then one booking exists, and every copy answers it: the first fresh, the others replayed
    assert [response.status_code for response in responses] == [201] * 10
    assert len({response.content for response in responses}) == 1
    assert sum(response.has_header("Idempotent-Replayed") for response in responses) == 9
    booking = Booking.objects.get()
    assert booking.reference == responses[0].json()["reference"]
    flight.refresh_from_db()
    assert flight.available_seats == flight.total_seats - 2
    assert IdempotencyKey.objects.get(key="double-click").response_body == responses[0].json()


@pytest.mark.django_db(transaction=True)
def test_a_hold_failing_inside_its_transaction_leaves_no_key_and_its_retry_holds(customer_client, customer):
    # given the database failing at the end of the hold's transaction, once
    flight = booking_flight(rows=5)
    body = {"flight_id": flight.pk, "passengers": passengers(1)}
    failures = []

    def fail_once(event) -> None:
        if not failures:
            failures.append(event.booking.reference)
            raise DatabaseError("connection lost")

    with booking_held.subscribed(fail_once):
        failed = customer_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
        # then nothing was held and no key recorded, so the retry with the same key runs again
        assert (failed.status_code, failed.json()["code"]) == (503, "service_unavailable")
        assert not Booking.objects.exists()
        assert not IdempotencyKey.objects.exists()
        flight.refresh_from_db()
        assert flight.available_seats == flight.total_seats

        retried = customer_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-me")

    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert Booking.objects.get().reference == retried.json()["reference"] != failures[0]


def test_a_refused_hold_is_stored_and_replayed_and_another_body_is_a_422(customer, customer_client):
    flight = booking_flight(rows=1, letters="A")
    hold(customer, flight)
    body = {"flight_id": flight.pk, "passengers": passengers(1)}

    refused = customer_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="late")
    Booking.objects.all().delete()  # the seat comes free: the stored answer still stands
    replayed = customer_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="late")
    other = customer_client.post(URL, body | {"seats": ["1A"]}, format="json", HTTP_IDEMPOTENCY_KEY="late")

    assert (refused.status_code, refused.json()["code"]) == (409, "sold_out")
    assert replayed.status_code == 409
    assert replayed.content == refused.content
    assert replayed["Idempotent-Replayed"] == "true"
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert not Booking.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("strategy", "statements"), [("pessimistic", 12), ("optimistic", 11)])
def test_a_hold_takes_the_fewest_statements(settings, customer_client, strategy, statements):
    # The user; the flight (with airports, cities, airplane); BEGIN; [pessimistic: the flight FOR
    # UPDATE]; booking, passengers, seats, audit row; the inventory (optimistic: the conditional
    # UPDATE, first); the outbox row; the idempotency key; COMMIT. Adding one fails this test.
    settings.BOOKING_LOCK_STRATEGY = strategy
    flight = booking_flight(rows=30)
    keyed_post(customer_client, URL, {"flight_id": flight.pk, "passengers": passengers(1)}, format="json")

    with CaptureQueriesContext(connection) as queries:
        response = keyed_post(
            customer_client, URL, {"flight_id": flight.pk, "passengers": passengers(3)}, format="json"
        )

    assert response.status_code == 201
    assert len(queries) == statements, "\n".join(query["sql"][:120] for query in queries.captured_queries)
