"""Read replicas against a real MariaDB primary and replica (apps/core/db_router.py, docs/SCALING.md).

Why a server in a subprocess: the router's primary is the `default` alias, which in this pytest
process is the suite's test database on the shared MariaDB, where binary logging is off and must stay
so. The session fixture therefore starts a primary (binary log, GTID) and a replica of its own
(`mariadbd` in a temporary directory, on free ports), migrates the primary (the replica receives the
schema by replication), seeds a small catalogue, and runs Django's server against the two with
DATABASE_REPLICA_URLS set: the real settings, router, middleware, views and services. The tests use
it over HTTP as travellers do, and read each database server directly to see who answered.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from django.conf import settings

from apps.core.testing.mariadb_pair import (
    STARTUP_SECONDS,
    MariaDB,
    MariaDBPair,
    MariaDBUnavailable,
    free_port,
    mariadb_pair,
    program,
)
from apps.core.testing.mariadb_pair import wait_until as pair_wait_until

pytestmark = [pytest.mark.replicas, pytest.mark.integration]

BASE_DIR = Path(settings.BASE_DIR)
# Small on purpose, so the tests wait seconds, not minutes, for a replica to count as lagging.
MAX_LAG_SECONDS = 3
SEARCH_TTL_SECONDS = 2


def wait_until(condition: Callable[[], object], seconds: float, what: str) -> object:
    """The first true value of `condition()`, asked every 50 ms for at most `seconds`."""
    return pair_wait_until(condition, seconds, what, transient=(requests.RequestException,))


@dataclass
class Cluster:
    pair: MariaDBPair
    url: str
    seed: dict
    log: Path
    probes: list[int] = field(default_factory=lambda: [0])

    @property
    def primary(self) -> MariaDB:
        return self.pair.primary

    @property
    def replica(self) -> MariaDB:
        return self.pair.replica

    def caught_up(self) -> bool:
        return self.pair.caught_up()

    def client(self, name: str | None = None) -> requests.Session:
        session = requests.Session()
        if name:
            session.headers["Authorization"] = f"Bearer {self.seed['tokens'][name]}"
        return session

    def fresh(self, path: str) -> str:
        """`path` with a query parameter never used before: a search the cache has never seen."""
        self.probes[0] += 1
        return f"{self.url}{path}{'&' if '?' in path else '?'}probe={self.probes[0]}"

    def log_lines(self, text: str) -> list[str]:
        return [line for line in self.log.read_text(errors="replace").splitlines() if text in line]


SEED = """
import json
from django.conf import settings
from django.test import Client
from apps.accounts.services import auth_session_start
from apps.accounts.tests.factories import UserFactory
from apps.flights.tests.factories import AirportFactory, CityFactory, FlightFactory
from zoneinfo import ZoneInfo

def flight(number, origin, destination):
    return FlightFactory(
        flight_number=number,
        departure_airport=AirportFactory(iata_code=origin, city=CityFactory(name=f"{origin} City")),
        arrival_airport=AirportFactory(iata_code=destination, city=CityFactory(name=f"{destination} City")),
        airplane__layout__rows=1,
        airplane__layout__letters="AB",
    )

users = {name: UserFactory() for name in ("ana", "ben", "cai", "dev")}

def signed_in(user):
    browser = Client()
    browser.force_login(user)
    return browser.cookies[settings.SESSION_COOKIE_NAME].value
def local_day(flight):
    return flight.departure_time.astimezone(ZoneInfo(flight.departure_airport.time_zone)).date().isoformat()

quiet = flight("RP100", "RPA", "RPB")
print(json.dumps({
    "quiet": quiet.pk,
    "quiet_day": local_day(quiet),
    "last_seats": flight("RP200", "RPC", "RPD").pk,
    "tokens": {name: str(auth_session_start(user=user).access_token) for name, user in users.items()},
    "session_cookie": settings.SESSION_COOKIE_NAME,
    "sessions": {name: signed_in(user) for name, user in users.items()},
}))
"""


@pytest.fixture(scope="session")
def cluster(tmp_path_factory) -> Cluster:
    started = time.monotonic()
    root = tmp_path_factory.mktemp("replicas")
    server: subprocess.Popen | None = None
    prefix = f"{os.environ.get('CACHE_KEY_PREFIX', 'airline-test')}-replicas-{uuid.uuid4().hex[:8]}"
    with contextlib.ExitStack() as stack:  # on exit: the server, the cache keys, both MariaDBs, files
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        try:
            pair = stack.enter_context(mariadb_pair(root))
        except MariaDBUnavailable as error:
            pytest.fail(str(error), pytrace=False)
        stack.callback(_cache_keys_delete, prefix)
        stack.callback(_server_stop, lambda: server)
        primary, replica = pair.primary, pair.replica
        primary.query("CREATE DATABASE airline CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "airline.settings.test",
            "DATABASE_URL": f"mysql://root:@127.0.0.1:{primary.port}/airline",
            "DATABASE_REPLICA_URLS": f"mysql://root:@127.0.0.1:{replica.port}/airline",
            "CACHE_KEY_PREFIX": prefix,
            "REPLICA_MAX_LAG_SECONDS": str(MAX_LAG_SECONDS),
            "SEARCH_CACHE_TTL_SECONDS": str(SEARCH_TTL_SECONDS),
            "FLIGHT_CACHE_TTL_SECONDS": "1",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        manage = [sys.executable, str(BASE_DIR / "manage.py")]
        _django(manage, ["migrate", "--noinput"], environment)
        seed = json.loads(_django(manage, ["shell", "-c", SEED], environment).strip().splitlines()[-1])
        port = free_port()
        log = root / "server.log"
        with log.open("w") as output:
            server = subprocess.Popen(
                [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
                env=environment,
                cwd=BASE_DIR,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: requests.get(f"{url}/healthz", timeout=2).ok, STARTUP_SECONDS, "the Django server")
        cluster = Cluster(pair=pair, url=url, seed=seed, log=log)
        wait_until(cluster.caught_up, STARTUP_SECONDS, "the replica to catch up")
        print(f"replica cluster ready in {time.monotonic() - started:.1f} s")  # noqa: T201 - shown with -s
        yield cluster


def _server_stop(server: Callable[[], subprocess.Popen | None]) -> None:
    process = server()
    if process is None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _django(manage: list[str], arguments: list[str], environment: dict[str, str]) -> str:
    """A management command's output; its errors, in full, if it fails."""
    done = subprocess.run(
        [*manage, *arguments], env=environment, cwd=BASE_DIR, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise AssertionError(f"manage.py {arguments[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def _cache_keys_delete(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


def _replica_only_flight(cluster: Cluster, flight_id: int, copy_of: int, number: str) -> None:
    """A flight that exists on the replica only: a copy of one, written without the binary log."""
    columns = [row[0] for row in cluster.replica.query("SHOW COLUMNS FROM airline.flights_flight")]
    values = {"id": str(flight_id), "flight_number": f"'{number}'"}
    cluster.replica.query(
        "SET sql_log_bin=0",
        f"INSERT INTO airline.flights_flight ({', '.join(columns)})"
        f" SELECT {', '.join(values.get(column, column) for column in columns)}"
        f" FROM airline.flights_flight WHERE id = {copy_of}",
    )


def _replica_only_flight_delete(cluster: Cluster, flight_id: int) -> None:
    cluster.replica.query("SET sql_log_bin=0", f"DELETE FROM airline.flights_flight WHERE id = {flight_id}")


def _numbers(answer: requests.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return sorted(flight["flight_number"] for flight in answer.json()["results"])


def _search_numbers(cluster: Cluster) -> list[str]:
    return _numbers(cluster.client().get(cluster.fresh("/api/v1/flights?trips=RPA-RPB"), timeout=10))


def _hold(cluster: Cluster, client: requests.Session, flight_id: int, travellers: int) -> requests.Response:
    return client.post(
        f"{cluster.url}/api/v1/bookings",
        json={
            "flight_id": flight_id,
            "passengers": [{"first_name": f"Pax{n}", "last_name": "Replica"} for n in range(travellers)],
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
        timeout=10,
    )


def test_search_detail_and_the_results_page_are_served_by_the_replica_and_a_hold_by_the_primary(cluster):
    # Given a flight that only the replica has
    _replica_only_flight(cluster, 900001, copy_of=cluster.seed["quiet"], number="RP901")
    try:
        # When a traveller searches (API and website), opens the flight and its seat map
        search = cluster.client().get(cluster.fresh("/api/v1/flights?trips=RPA-RPB"), timeout=10)
        page = cluster.client().get(cluster.fresh("/flights/?origin=RPA&destination=RPB"), timeout=10)
        detail = cluster.client().get(f"{cluster.url}/api/v1/flights/900001", timeout=10)
        seats = cluster.client().get(f"{cluster.url}/api/v1/flights/900001/seats", timeout=10)
        detail_page = cluster.client().get(f"{cluster.url}/flights/900001/", timeout=10)
        fares = cluster.client().get(
            f"{cluster.url}/api/v1/flights/fares-by-day?trips=RPA-RPB&tripDate={cluster.seed['quiet_day']}",
            timeout=10,
        )
        journeys = cluster.client().get(
            f"{cluster.url}/api/v1/journeys?origin=RPA&destination=RPB&date={cluster.seed['quiet_day']}",
            timeout=10,
        )
        # Then the replica answered all of them
        assert _numbers(search) == ["RP100", "RP901"]
        assert page.status_code == 200
        assert "RP901" in page.text
        assert "RP100" in page.text
        assert (detail.status_code, detail.json()["flight_number"]) == (200, "RP901")
        assert (seats.status_code, len(seats.json()["seats"])) == (200, 2)
        assert (detail_page.status_code, "RP901" in detail_page.text) == (200, True)
        assert fares.status_code == 200, fares.text
        assert [day["flights"] for day in fares.json()["days"] if day["chosen"]] == [2]
        assert journeys.status_code == 200, journeys.text
        assert sorted(f["flight_number"] for f in journeys.json()["segments"][0]["flights"]) == [
            "RP100",
            "RP901",
        ]

        # When a traveller holds a seat on it: the hold reads the primary, which has no such flight
        writer = cluster.client("dev")
        hold = _hold(cluster, writer, 900001, 1)
        assert (hold.status_code, hold.json()["code"]) == (404, "flight_not_found")
        assert cluster.primary.value("SELECT COUNT(*) FROM airline.bookings_booking") == 0

        # Then, having written, that client reads the primary for a while (read-your-writes), as the
        # cookie the write set says; a client that did not write still reads the replica
        assert writer.cookies.get("airline_primary_until")
        assert _numbers(writer.get(cluster.fresh("/api/v1/flights?trips=RPA-RPB"), timeout=10)) == ["RP100"]
        others = cluster.client().get(cluster.fresh("/api/v1/flights?trips=RPA-RPB"), timeout=10)
        assert _numbers(others) == ["RP100", "RP901"]
        writer.cookies.set("airline_primary_until", "1")  # its pin ran out
        expired = writer.get(cluster.fresh("/api/v1/flights?trips=RPA-RPB"), timeout=10)
        assert _numbers(expired) == ["RP100", "RP901"]
    finally:
        _replica_only_flight_delete(cluster, 900001)


def test_a_lagging_replica_never_decides_a_hold_and_search_catches_up_within_the_promise(cluster):
    flight_id = cluster.seed["last_seats"]
    search_url = f"{cluster.url}/api/v1/flights?trips=RPC-RPD&travellers=1"
    # Given a replica whose SQL thread has stopped (it receives the primary's changes, applies none)
    cluster.replica.query("STOP SLAVE SQL_THREAD")
    try:
        assert _numbers(cluster.client().get(search_url, timeout=10)) == ["RP200"]

        replica_selects = cluster.replica.selects()
        # When four travellers race for the flight's last two seats, two each
        names = ["ana", "ben", "cai", "dev"]
        clients = [cluster.client(name) for name in names]
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(lambda client: _hold(cluster, client, flight_id, 2), clients))
        committed = time.monotonic()

        # Then exactly one holds them, on the primary (the replica still shows both seats free)
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [201, 409, 409, 409], [answer.text for answer in answers]
        assert {answer.json()["code"] for answer in answers if answer.status_code == 409} == {"sold_out"}
        flight_row = f"SELECT available_seats FROM airline.flights_flight WHERE id = {flight_id}"
        assert cluster.primary.value(flight_row) == 0
        assert (
            cluster.primary.value(
                f"SELECT COUNT(*) FROM airline.bookings_booking WHERE flight_id = {flight_id}"
            )
            == 1
        )

        # When the winner pays
        name, winner, booking = next(
            (name, client, answer.json())
            for name, client, answer in zip(names, clients, answers, strict=True)
            if answer.ok
        )
        paid = winner.post(
            f"{cluster.url}/api/v1/payments",
            json={
                "booking_reference": booking["reference"],
                "amount": booking["total_amount"],
                "currency": booking["currency"],
                "payment_method": "tok_visa",
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
            timeout=10,
        )
        assert paid.status_code == 201, paid.text

        # Then their booking, in the API and on the website (a browser that never wrote: no pin),
        # is confirmed at once, though the replica has not even seen the hold
        shown = winner.get(f"{cluster.url}/api/v1/bookings/{booking['reference']}", timeout=10)
        assert (shown.status_code, shown.json()["status"]) == (200, "confirmed")
        browser = requests.Session()
        browser.cookies.set(cluster.seed["session_cookie"], cluster.seed["sessions"][name])
        page = browser.get(f"{cluster.url}/bookings/{booking['reference']}/", timeout=10)
        assert page.status_code == 200
        assert booking["reference"] in page.text
        assert 'data-money-state="confirmed"' in page.text
        # (none of the holds, the payment or the booking pages read the replica at all)
        assert cluster.replica.selects() == replica_selects
        assert cluster.replica.value(flight_row) == 2
        assert cluster.replica.value("SELECT COUNT(*) FROM airline.bookings_booking") == 0

        # And the search stops showing the sold-out flight within REPLICA_MAX_LAG_SECONDS plus the
        # search cache's TTL (README, "Read replicas"), while the replica is still behind
        promise = MAX_LAG_SECONDS + SEARCH_TTL_SECONDS
        wait_until(
            lambda: _numbers(cluster.client().get(search_url, timeout=10)) == [],
            promise + 1 - (time.monotonic() - committed),
            "search to drop the sold-out flight",
        )
        assert time.monotonic() - committed <= promise + 1
        assert cluster.replica.value(flight_row) == 2
    finally:
        cluster.replica.query("START SLAVE SQL_THREAD")
        wait_until(cluster.caught_up, 10, "the replica to catch up")


def test_a_replica_that_is_down_is_skipped_within_a_second_and_used_again_when_back(cluster):
    # Given the replica in use
    _replica_only_flight(cluster, 900002, copy_of=cluster.seed["quiet"], number="RP902")
    try:
        wait_until(lambda: "RP902" in _search_numbers(cluster), 3, "search to read the replica")
    finally:
        _replica_only_flight_delete(cluster, 900002)
    down_lines = len(cluster.log_lines("Replica replica_1 is down"))
    up_lines = len(cluster.log_lines("Replica replica_1 is up"))

    # When it stops
    cluster.replica.stop()
    try:
        timings = []
        for _ in range(3):
            started = time.monotonic()
            answer = cluster.client().get(cluster.fresh("/api/v1/flights?trips=RPA-RPB"), timeout=10)
            timings.append(time.monotonic() - started)
            # Then search answers from the primary, the first time within a second, then at once
            assert _numbers(answer) == ["RP100"]
        assert timings[0] < 1.0, timings
        assert max(timings[1:]) < 0.5, timings
        down = cluster.log_lines("Replica replica_1 is down")
        assert len(down) == down_lines + 1, down
        assert "Traceback" not in cluster.log.read_text(errors="replace")
    finally:
        # When it is back
        cluster.replica.start()
        cluster.replica.wait_ready()
        wait_until(cluster.caught_up, 10, "the replica to catch up")

    # Then search uses it again, and the log says so once
    _replica_only_flight(cluster, 900003, copy_of=cluster.seed["quiet"], number="RP903")
    try:
        wait_until(lambda: "RP903" in _search_numbers(cluster), 3, "search to read the replica again")
    finally:
        _replica_only_flight_delete(cluster, 900003)
    assert len(cluster.log_lines("Replica replica_1 is up")) == up_lines + 1


def test_a_missing_mariadbd_is_refused_saying_what_to_install():
    missing = r"mariadbd-missing was not found: .*apt-get install mariadb-server"
    with pytest.raises(MariaDBUnavailable, match=missing):
        program("mariadbd-missing")
