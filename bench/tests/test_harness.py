"""The benchmark harness itself: a tiny `make bench` against the test database, and its checks failing.

The full benchmark is `make bench` (never a timed test: timings on a shared machine prove nothing);
these tests only prove that the harness starts the servers, drives every scenario over HTTP through
wrk and the Python client, checks the invariants and writes its results and charts.
"""

import json
import os
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F

from apps.flights.models import Flight
from apps.payments.models import GatewayCharge, Payment
from bench import data
from bench.run import Bench, Config, queue_delete, results_write
from bench.server import Server, ServerSpec
from bench.wrk_load import run_wrk

SCENARIOS = ("me", "flight", "seats", "search_hit", "search_miss", "spread", "hot", "journey")


def _test_database_url() -> str:
    db = connection.settings_dict
    password = quote(db["PASSWORD"] or "", safe="")
    return f"mysql://{db['USER']}:{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{db['NAME']}"


@pytest.fixture
def tiny_config(tmp_path: Path) -> Config:
    return Config(
        name="harness",
        runs=1,
        concurrency=(2,),
        duration=0.4,
        warmup=0.2,
        hot_seats=1000,
        storm_bookings=1,
        strategies=("pessimistic",),
        server="gthread:1x2",
        servers=("sync:1",),
        database_url=_test_database_url(),
        redis_url=os.environ["REDIS_URL"],
        queue=f"{os.environ.get('CELERY_TASK_DEFAULT_QUEUE', 'airline-test')}-bench-harness",
        create_database=False,
        results_dir=tmp_path,
        # the tokens are minted here, with the test settings' key
        extra_env={"DJANGO_SECRET_KEY": settings.SECRET_KEY},
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_tiny_bench_measures_every_scenario_over_http_and_checks_the_invariants(tiny_config):
    # given the harness configured for two clients, one run, a small production server and a variant
    progress: list[str] = []

    # when it runs (servers on the test database, load from wrk and the Python client)
    bench = Bench(tiny_config, write=progress.append)
    try:
        result = bench.execute()
    finally:
        queue_delete(tiny_config)
    report = results_write(tiny_config, result)

    # then every scenario was measured with answers on the production server, the key ones on the
    # variant, and the spread scenario also at one client
    production, variant = "gthread:1x2", "sync:1"
    rows = {(row["scenario"], row["server"], row["concurrency"]): row for row in result["summary"]["rows"]}
    expected = {(scenario, production, 2) for scenario in SCENARIOS}
    expected |= {(scenario, variant, 2) for scenario in ("me", "flight", "spread", "hot")}
    expected |= {("spread", production, 1), ("spread", variant, 1), ("me_python", production, 2)}
    expected |= {("pay_same", production, 2), ("pay_diff", production, 2), ("ceiling", "-", 2)}
    assert set(rows) == expected
    for key, row in rows.items():
        assert row["ok_per_s"] > 0, row
        if key[0] != "ceiling":
            assert row["transport_errors"] == 0, row
            assert 0 <= row["client_cpu_share"] < 1, row
    for scenario in SCENARIOS:
        row = rows[(scenario, production, 2)]
        assert row["client"] == "wrk"
        assert row["me_ratio"] > 0
        assert row["closed_share"] == 0  # gthread keeps each connection alive
    assert rows[("me", variant, 2)]["closed_share"] == 1  # sync closes every one
    assert rows[("me_python", production, 2)]["client"] == "python"
    assert rows[("search_hit", production, 2)]["cache_hit_ratio"] == 1.0
    assert rows[("search_miss", production, 2)]["cache_hit_ratio"] == 0.0
    assert rows[("pay_same", production, 2)]["charges_per_booking"] == [1]
    assert rows[("pay_diff", production, 2)]["charges_per_booking"] == [1]
    # and every booking measurement was checked: each 201 counted by wrk is one booking, no oversell
    bookings = [m for m in result["measurements"] if m["scenario"] in ("spread", "hot", "journey")]
    assert len(bookings) == 7
    for measurement in bookings:
        assert measurement["drained"] is True
        assert measurement["check"]["ok"] is True, measurement["check"]
        assert measurement["check"]["oversold"] == 0
    hot = [m for m in bookings if m["scenario"] == "hot"]
    for measurement in hot:
        assert measurement["check"]["bookings_answered"] == measurement["statuses"]["201"]
        assert measurement["check"]["seats"] == measurement["seats"]
    assert result["summary"]["invariants_ok"] is True
    assert result["summary"]["server_db_connections"]["persistent"] is True
    # and the goals were judged at the clients measured, the progress counted every planned step
    goals = {goal["goal"].split(" ≥")[0].split(":")[0]: goal for goal in result["summary"]["goals"]}
    assert goals["flight detail"]["met"] in (True, False)
    assert goals["one booking at 1 client (pessimistic)"]["met"] in (True, False)
    assert result["steps"] == {"planned": tiny_config.steps_per_run(), "done": tiny_config.steps_per_run()}
    assert len([line for line in progress if " · " in line]) == tiny_config.steps_per_run()
    assert progress[-1].startswith("[bench ")
    assert f"step {tiny_config.steps_per_run()}/" in progress[-1]
    # and the results are written: the JSON with the numbers, the Markdown report, one chart a scenario
    written = json.loads((tiny_config.results_dir / "harness.json").read_text())
    assert written["summary"]["rows"] == json.loads(json.dumps(result["summary"]["rows"]))
    assert (tiny_config.results_dir / "harness.md").read_text() == report
    assert "| booking, one hot flight | pessimistic | 2 |" in report
    assert "## Servers compared" in report
    assert "| sync:1 | no (100% of answers closed it) |" in report
    assert "the Python client" in report
    for scenario in SCENARIOS:
        chart = (tiny_config.results_dir / "harness" / f"{scenario}.svg").read_text()
        assert chart.startswith("<svg")
        assert "gthread:1x2, pessimistic" in chart
    assert "sync:1, pessimistic" in (tiny_config.results_dir / "harness" / "spread.svg").read_text()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_wrk_sees_every_booking_of_a_flight_that_sells_out_and_each_client_stops_at_sold_out(tiny_config):
    # given a 10-seat flight and a running server
    (flight_id,) = data.flights_make(data.airports_prepare(), count=1, seats=10)
    users = data.users_make(3)
    spec = ServerSpec.parse("gthread:1x2")
    env = tiny_config.server_env("optimistic")

    # when three clients book it for up to 20 seconds, stopping at their first sold_out
    with Server(spec, env=env, log_path=tiny_config.results_dir / "server.log") as server:
        result = run_wrk(
            "booking",
            server.base_url,
            concurrency=3,
            duration=20,
            tokens=data.access_tokens(users),
            flight_ids=[flight_id],
            params={"stop_on": "sold_out"},
        )

    # then wrk counted exactly the ten bookings, and each client one sold_out, long before the end
    assert result["statuses"] == {"201": 10, "409": 3}
    assert result["codes"] == {"sold_out": 3}
    assert result["drained"] is True
    assert result["transport_errors"] == 0
    assert result["elapsed_s"] < 20
    assert result["requests"] == 13
    assert data.inventory_check([flight_id], bookings_answered=result["statuses"]["201"])["ok"] is True
    # and the ten bookings belong to the three users, one passenger each
    assert Flight.objects.get(pk=flight_id).available_seats == 0


@pytest.mark.django_db
def test_the_inventory_check_catches_an_oversold_or_drifted_flight():
    # given a flight with two held seats, counted right
    (flight_id,) = data.flights_make(data.airports_prepare(), count=1, seats=10)
    users = data.users_make(1)
    data.payable_bookings(users, data.access_tokens(users), [flight_id, flight_id])
    assert data.inventory_check([flight_id], bookings_answered=2)["ok"] is True

    # when a 201 is reported that has no booking, the check fails
    assert data.inventory_check([flight_id], bookings_answered=3)["ok"] is False

    # and when the counter drifts from the seats (a lost decrement), the check fails and names it
    Flight.objects.filter(pk=flight_id).update(available_seats=F("available_seats") + 1)
    check = data.inventory_check([flight_id], bookings_answered=2)
    assert check["ok"] is False
    assert check["inventory_violations"] == [flight_id]


@pytest.mark.django_db
def test_when_a_wrk_thread_never_reported_the_201s_counted_are_a_lower_bound():
    # given a flight with two held seats, of which the clients counted one (a thread's numbers lost)
    (flight_id,) = data.flights_make(data.airports_prepare(), count=1, seats=10)
    users = data.users_make(1)
    data.payable_bookings(users, data.access_tokens(users), [flight_id, flight_id])

    # then the check passes and says how many went uncounted
    check = data.inventory_check([flight_id], bookings_answered=1, all_counted=False)
    assert (check["ok"], check["uncounted"]) == (True, 1)
    # but more 201s than bookings, or a drifted counter, still fail
    assert data.inventory_check([flight_id], bookings_answered=3, all_counted=False)["ok"] is False
    Flight.objects.filter(pk=flight_id).update(available_seats=F("available_seats") + 1)
    assert data.inventory_check([flight_id], bookings_answered=1, all_counted=False)["ok"] is False


@pytest.mark.django_db
def test_the_charge_check_catches_a_second_charge():
    # given a booking paid once
    (flight_id,) = data.flights_make(data.airports_prepare(), count=1, seats=10)
    users = data.users_make(1)
    (booking,) = data.payable_bookings(users, data.access_tokens(users), [flight_id])
    payment = _pay(booking["reference"], users[0])
    assert data.charges_check([booking["reference"]])["ok"] is True

    # when the gateway's ledger shows a second charge for it
    second = Payment.objects.create(
        booking=payment.booking,
        owner=users[0],
        amount=payment.amount,
        currency=payment.currency,
        status=Payment.Status.DECLINED,
        payment_method="tok_visa",
        gateway_idempotency_key="second-charge",
    )
    GatewayCharge.objects.create(
        idempotency_key=second.gateway_idempotency_key,
        reference="ch_second",
        token="tok_visa",
        amount=payment.amount,
        currency=payment.currency,
        status=GatewayCharge.Status.SUCCEEDED,
    )

    # then the check fails, counting two charges
    check = data.charges_check([booking["reference"]])
    assert check["ok"] is False
    assert check["charges_per_booking"] == [2]


def _pay(reference: str, user) -> Payment:
    from apps.bookings.models import Booking
    from apps.payments.services import payment_create

    booking = Booking.objects.get(reference=reference)
    return payment_create(
        user=user,
        booking_reference=reference,
        amount=booking.total_amount,
        currency=booking.currency,
        payment_method="tok_visa",
        idempotency_key="first",
    )
