"""Fault tests: Airline keeps working, and loses nothing, when a part fails.

Every fault test of the suite, in one index (marker `integration` unless noted):
- Redis down for a whole API journey (search, hold, pay; sign-in fails closed): here.
- A database connection killed mid-request, inside the hold's transaction (either strategy) or
  between statements (clean 503, nothing half-written, the key released, the retry works): here.
- A database lock held by another connection → `409 busy` with Retry-After within the bounded wait,
  nothing taken: apps/bookings/tests/test_api.py
  `test_flight_locked_too_long_is_a_409_busy_with_retry_after` (marker `concurrency`).
- RabbitMQ down: hold and payment succeed, the three emails (e-ticket included) wait in the outbox and
  go out once the broker is back: apps/notifications/tests/test_jobs.py
  `test_with_the_broker_down_booking_and_payment_succeed_and_the_retry_job_delivers_later`.
- A worker killed while sending an email, before and after the SMTP server accepted it (acks_late
  redelivery; sent once, respectively twice and recorded once): apps/notifications/tests/test_faults.py
  (also marked `slow`: each starts two real workers).
- The payment gateway timing out after charging (reconciled, one charge):
  apps/payments/tests/test_reconcile.py, from
  `test_reconciliation_confirms_a_timed_out_charge_when_the_client_never_returns` on.
- Redis down for one part: search answers from the database and writes still succeed
  (apps/flights/tests/test_search_cache.py), sign-in fails closed and search fails open
  (apps/accounts/tests/test_ratelimit.py).
"""

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests
from django.core.wsgi import get_wsgi_application
from django.db import connection, connections, transaction
from django.test import override_settings

from apps.accounts.models import User
from apps.accounts.tests.factories import TEST_PASSWORD
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.selectors import inventory_violations
from apps.bookings.tests.factories import booking_flight, passengers
from apps.core.models import IdempotencyKey
from apps.core.testing.database import session_kill, session_waiting
from apps.flights.models import Flight
from apps.flights.tests.factories import delhi_airport, mumbai_airport
from apps.notifications.models import Notification
from apps.payments.models import Payment
from apps.payments.tests.factories import payment_body
from conftest import access_token_for

REDIS_DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
    }
}
LOCK_WAIT_DEADLINE_SECONDS = 2.5  # under DB_LOCK_WAIT_TIMEOUT_SECONDS (3): the request is still waiting


@pytest.fixture
def route_flight(db) -> Flight:
    """Mumbai → Delhi in three days; rows 1–2 business, 3–20 economy (116 seats)."""
    return booking_flight(
        rows=20, business_rows=2, departure_airport=mumbai_airport(), arrival_airport=delhi_airport()
    )


def keyed(client, url: str, body: dict):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)


@pytest.mark.integration
@pytest.mark.django_db
def test_with_redis_down_a_traveller_searches_holds_and_pays_and_sign_in_fails_closed(
    api_client, customer, customer_client, route_flight
):
    # given Redis unreachable (the cache of search results and every rate-limit counter)
    with override_settings(CACHES=REDIS_DOWN):
        # when a traveller signs in, signs up, searches, opens the seat map, holds two seats and pays
        sign_in = api_client.post(
            "/api/v1/auth/token", {"email": customer.email, "password": TEST_PASSWORD}, format="json"
        )
        sign_up = api_client.post(
            "/api/v1/auth/signup",
            {"email": "new@airline.example", "password": TEST_PASSWORD, "name": "New"},
            format="json",
        )
        search = api_client.get("/api/v1/flights", {"trips": "BOM-DEL"})
        seat_map = api_client.get(f"/api/v1/flights/{route_flight.pk}/seats")
        held = keyed(
            customer_client,
            "/api/v1/bookings",
            {"flight_id": route_flight.pk, "passengers": passengers(2), "seats": ["12A", "12B"]},
        )
        booking = Booking.objects.get()
        paid = keyed(customer_client, "/api/v1/payments", payment_body(booking))
        detail = customer_client.get(f"/api/v1/bookings/{booking.reference}")

    # then the limits that guard passwords fail closed, and nothing is created by them,
    for refused in (sign_in, sign_up):
        assert (refused.status_code, refused.json()["code"]) == (503, "rate_limiter_unavailable")
        assert refused["Retry-After"] == "5"
    assert "access" not in sign_in.json()
    assert not User.objects.filter(email="new@airline.example").exists()
    # search answers from the database, and booking and payment fail open (README "Rate limits"),
    assert search.status_code == 200
    assert search["X-Cache"] == "miss"
    assert [result["id"] for result in search.json()["results"]] == [route_flight.pk]
    assert seat_map.status_code == 200
    assert (held.status_code, held.json()["seats"]) == (201, ["12A", "12B"])
    assert paid.status_code == 201
    assert (detail.status_code, detail.json()["status"]) == (200, Booking.Status.CONFIRMED)
    # and nothing is lost: the booking, its seats, the counter, the one charge and the three emails.
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert sorted(booking.seat_assignments.filter(active=True).values_list("seat_code", flat=True)) == [
        "12A",
        "12B",
    ]
    route_flight.refresh_from_db()
    assert route_flight.available_seats == 114
    assert list(Payment.objects.values_list("status", flat=True)) == [Payment.Status.SUCCEEDED]
    kinds = Notification.Kind
    assert sorted(Notification.objects.filter(booking=booking).values_list("kind", flat=True)) == sorted(
        [kinds.BOOKING_HELD, kinds.BOOKING_CONFIRMED, kinds.PAYMENT_RECEIPT]
    )
    assert inventory_violations() == []


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the signature of the base class
        pass


@contextmanager
def one_thread_wsgi_server() -> Iterator[str]:
    """Airline's WSGI application on loopback, every request served on one thread (like a sync
    gunicorn worker), so Django's connection handling between requests is the real one — the test
    client skips `close_old_connections`. Yields the base URL."""
    server = make_server(
        "127.0.0.1", 0, get_wsgi_application(), server_class=WSGIServer, handler_class=_QuietHandler
    )

    def serve() -> None:
        try:
            server.serve_forever(poll_interval=0.05)
        finally:
            connections.close_all()  # the serving thread's persistent connection (CONN_MAX_AGE)

    thread = threading.Thread(target=serve, name="wsgi-server")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


FLIGHTS_TABLE = f"`{Flight._meta.db_table}`"


@contextmanager
def flight_row_locked(flight_id: int) -> Iterator[list[str]]:
    """Hold the flight row's lock in a transaction of this connection. Yields the patterns of the
    request's statements that wait for it: inside the request's transaction, with either strategy."""
    with transaction.atomic():
        Flight.objects.select_for_update().get(pk=flight_id)
        table = Flight._meta.db_table  # quoted by the ORM, written plain in the hot path's SQL
        yield [f"%{table}%FOR UPDATE%", f"UPDATE %{table}%"]


@contextmanager
def flights_table_locked(flight_id: int) -> Iterator[list[str]]:
    """Lock the flights table from this connection: even the request's first plain read of the
    flight, made outside any transaction, waits (for the table's metadata lock)."""
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLES {FLIGHTS_TABLE} WRITE")
        try:
            yield [f"%{Flight._meta.db_table}%"]
        finally:
            cursor.execute("UNLOCK TABLES")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("lock_strategy", "blocker"),
    [
        ("pessimistic", flight_row_locked),
        ("optimistic", flight_row_locked),
        ("pessimistic", flights_table_locked),
    ],
    ids=["in-transaction-pessimistic", "in-transaction-optimistic", "between-transactions"],
)
def test_a_database_connection_killed_mid_hold_is_a_clean_503_and_the_retry_holds(
    settings, customer, lock_strategy, blocker
):
    settings.BOOKING_LOCK_STRATEGY = lock_strategy
    flight = booking_flight(rows=20, business_rows=2)
    headers = {
        "Authorization": f"Bearer {access_token_for(customer)}",
        "Idempotency-Key": "hold-after-a-dropped-connection",
    }
    body = {"flight_id": flight.pk, "passengers": passengers(2)}

    with one_thread_wsgi_server() as base_url, ThreadPoolExecutor(max_workers=1) as client:
        # given a hold request waiting for the flight, which another connection has locked,
        with blocker(flight.pk) as waiting_statements:
            pending = client.submit(
                requests.post, f"{base_url}/api/v1/bookings", json=body, headers=headers, timeout=10
            )
            # when the request's database connection is killed while it waits,
            session_kill(session_waiting(waiting_statements, deadline_seconds=LOCK_WAIT_DEADLINE_SECONDS))
        dropped = pending.result(timeout=10)

        # then the client gets a clean problem, with nothing of the database's error in it,
        assert dropped.status_code == 503
        assert dropped.headers["Content-Type"] == "application/problem+json"
        assert dropped.headers["Retry-After"] == "5"
        problem = dropped.json()
        assert (problem["code"], problem["title"]) == ("service_unavailable", "A dependency is unavailable")
        assert set(problem) == {"type", "title", "status", "detail", "code", "request_id"}
        for leak in ("MySQL", "Lost connection", "SELECT", "UPDATE", "Traceback", "2013"):
            assert leak not in dropped.text
        # nothing was half-written, and the key was released so that a retry runs afresh,
        assert not Booking.objects.exists()
        assert not SeatAssignment.objects.exists()
        assert not Notification.objects.exists()
        assert not IdempotencyKey.objects.exists()
        flight.refresh_from_db()
        assert flight.available_seats == flight.total_seats
        assert inventory_violations() == []

        # and the client's retry with the same key, served by the same thread, holds the seats.
        retried = requests.post(f"{base_url}/api/v1/bookings", json=body, headers=headers, timeout=10)

    assert retried.status_code == 201, retried.text
    assert "Idempotent-Replayed" not in retried.headers
    booking = Booking.objects.get()
    assert booking.reference == retried.json()["reference"]
    assert SeatAssignment.objects.filter(booking=booking, active=True).count() == 2
    assert IdempotencyKey.objects.get().state == IdempotencyKey.State.COMPLETED
    flight.refresh_from_db()
    assert flight.available_seats == flight.total_seats - 2
    assert inventory_violations() == []
