"""The read-replica router's rules that need no replica (apps/core/db_router.py); against real
replicas: test_replicas.py."""

import importlib.util
import uuid

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, router, transaction
from django.test.utils import CaptureQueriesContext

from apps.bookings.models import Booking
from apps.bookings.tests.factories import booking_flight, passengers
from apps.core import db_router
from apps.core.middleware import REPLICA_PIN_COOKIE
from apps.flights.models import Airport, Flight

SETTINGS_FILE = __import__("airline.settings.base", fromlist=["__file__"]).__file__


def settings_with(monkeypatch, **environment: str):
    """airline/settings/base.py as read with these environment variables (a copy of the module)."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location(f"settings_probe_{uuid.uuid4().hex}", SETTINGS_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_replica_urls_there_is_one_database_and_no_router(monkeypatch):
    monkeypatch.delenv("DATABASE_REPLICA_URLS", raising=False)

    probe = settings_with(monkeypatch, DATABASE_URL="mysql://root:@127.0.0.1:3306/airline")

    assert list(probe.DATABASES) == ["default"]
    assert (probe.DATABASE_REPLICA_ALIASES, probe.DATABASE_ROUTERS) == ([], [])


def test_each_replica_url_is_an_alias_with_the_primarys_options_mirroring_it_in_tests(monkeypatch):
    probe = settings_with(
        monkeypatch,
        DATABASE_URL="mysql://app:secret@primary:3306/airline",
        DATABASE_REPLICA_URLS="mysql://app:secret@replica-a:3306/airline,mysql://app:secret@replica-b:3307/airline",
        DB_CONN_MAX_AGE="30",
    )

    assert list(probe.DATABASES) == ["default", "replica_1", "replica_2"]
    assert probe.DATABASE_REPLICA_ALIASES == ["replica_1", "replica_2"]
    assert probe.DATABASE_ROUTERS == ["apps.core.db_router.ReplicaRouter"]
    primary, second = probe.DATABASES["default"], probe.DATABASES["replica_2"]
    assert (second["HOST"], second["PORT"], second["NAME"]) == ("replica-b", 3307, "airline")
    assert second["OPTIONS"] == {**primary["OPTIONS"], "connect_timeout": 1}
    assert (second["CONN_MAX_AGE"], second["CONN_HEALTH_CHECKS"]) == (30, True)
    assert second["TEST"] == {"MIRROR": "default"}
    assert probe.REPLICA_PIN_SECONDS > probe.REPLICA_MAX_LAG_SECONDS


def test_replicas_without_a_mariadb_primary_are_refused(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)

    with pytest.raises(Exception, match="DATABASE_REPLICA_URLS needs a MariaDB"):
        settings_with(monkeypatch, DATABASE_REPLICA_URLS="mysql://root:@replica:3306/airline")


@pytest.fixture
def replicas_on(settings):
    """The router installed and a replica named, as DATABASE_REPLICA_URLS would: no replica_1
    connection exists, so any read that tried to use it would fail."""
    settings.DATABASE_REPLICA_ALIASES = ["replica_1"]
    settings.DATABASE_ROUTERS = ["apps.core.db_router.ReplicaRouter"]
    assert type(router.routers[0]) is db_router.ReplicaRouter
    return settings


def test_the_router_sends_only_catalogue_reads_of_a_catalogue_read_to_a_replica(replicas_on):
    scope = db_router._catalogue_alias.set("replica_1")
    try:
        inside = [router.db_for_read(model) for model in (Flight, Airport, Booking)]
        writes = router.db_for_write(Flight)
    finally:
        db_router._catalogue_alias.reset(scope)

    assert inside == ["replica_1", "replica_1", DEFAULT_DB_ALIAS]
    assert writes == DEFAULT_DB_ALIAS
    assert router.db_for_read(Flight) == DEFAULT_DB_ALIAS
    assert router.allow_migrate("replica_1", "flights") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "flights") is True


@pytest.mark.django_db
def test_reads_in_a_transaction_or_of_a_client_that_just_wrote_stay_on_the_primary(replicas_on):
    pinned = db_router.replica_pinned.set(True)
    try:
        after_a_write = db_router.replica_for_reads()
    finally:
        db_router.replica_pinned.reset(pinned)
    with transaction.atomic():
        in_a_transaction = db_router.replica_for_reads()

    assert (after_a_write, in_a_transaction) == (DEFAULT_DB_ALIAS, DEFAULT_DB_ALIAS)


@pytest.mark.django_db(transaction=True)
def test_with_the_router_a_hold_takes_the_same_statements_and_pins_its_client(replicas_on, customer_client):
    # As apps/bookings/tests/test_api.py: test_a_hold_takes_the_fewest_statements (pessimistic: 12).
    replicas_on.BOOKING_LOCK_STRATEGY = "pessimistic"
    flight = booking_flight(rows=30)
    body = {"flight_id": flight.pk, "passengers": passengers(1)}
    customer_client.post("/api/v1/bookings", body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)

    with CaptureQueriesContext(connection) as queries:
        response = customer_client.post(
            "/api/v1/bookings",
            {"flight_id": flight.pk, "passengers": passengers(3)},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
    statements = [query["sql"][:120] for query in queries.captured_queries]  # a request clears them
    read = customer_client.get(f"/api/v1/bookings/{response.json()['reference']}")

    assert response.status_code == 201
    assert len(statements) == 12, "\n".join(statements)
    assert Booking.objects.filter(flight=flight).count() == 2
    assert response.cookies[REPLICA_PIN_COOKIE]["max-age"] == replicas_on.REPLICA_PIN_SECONDS
    assert REPLICA_PIN_COOKIE not in read.cookies  # reads do not extend it


@pytest.mark.django_db
def test_without_replicas_a_write_sets_no_pin(settings, customer_client):
    settings.DATABASE_REPLICA_ALIASES = []
    flight = booking_flight(rows=2)

    response = customer_client.post(
        "/api/v1/bookings",
        {"flight_id": flight.pk, "passengers": passengers(1)},
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )

    assert response.status_code == 201
    assert REPLICA_PIN_COOKIE not in response.cookies


def test_gtid_positions_are_read_per_domain():
    assert db_router._gtid_positions("0-1-264,1-2-17") == {"0": "1-264", "1": "2-17"}
    assert db_router._gtid_positions("") == {}
