"""The benchmark harness itself: a tiny `make bench` against the test database, and its checks failing.

The full benchmark is `make bench` (never a timed test, SPEC §9); these tests only prove that the
harness starts gunicorn, drives every scenario over HTTP, checks the invariants and writes its results.
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
        hot_seats=20,
        hot_timeout=10,
        storm_bookings=1,
        strategies=("pessimistic",),
        workers=1,
        threads=2,
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
    # given the harness configured for two clients, one run, a 20-seat hot flight

    # when it runs (gunicorn on the test database, load from its own process)
    try:
        result = Bench(tiny_config).execute()
    finally:
        queue_delete(tiny_config)
    report = results_write(tiny_config, result)

    # then every scenario was measured with answers, and the invariants were checked and held
    rows = {(row["scenario"], row["variant"]): row for row in result["summary"]["rows"]}
    assert set(rows) == {
        ("me", "-"),
        ("search_hit", "-"),
        ("search_miss", "-"),
        ("spread", "pessimistic"),
        ("pay_same", "-"),
        ("pay_diff", "-"),
        ("hot", "pessimistic"),
        ("ceiling", "for_update"),
    }
    for row in rows.values():
        assert row["ok_per_s"] > 0, row
    hot = next(m for m in result["measurements"] if m["scenario"] == "hot")
    assert hot["statuses"]["201"] == 20
    assert hot["codes"] == {"sold_out": 2}  # each client stops at its first sold_out
    assert hot["check"] == {
        "flights": 1,
        "seats": 20,
        "sold": 20,
        "available": 0,
        "oversold": 0,
        "bookings_in_db": 20,
        "bookings_answered": 20,
        "inventory_violations": [],
        "sold_out": True,
        "ok": True,
    }
    assert rows[("search_hit", "-")]["cache_hit_ratio"] == 1.0
    assert rows[("search_miss", "-")]["cache_hit_ratio"] == 0.0
    assert rows[("pay_same", "-")]["charges_per_booking"] == [1]
    assert rows[("pay_diff", "-")]["charges_per_booking"] == [1]
    assert result["summary"]["invariants_ok"] is True
    assert result["summary"]["server_db_connections"]["persistent"] is True
    assert 1 <= result["summary"]["server_db_connections"]["most_open"] <= 2  # 1 worker × 2 threads
    assert rows[("hot", "pessimistic")]["ceiling_ratio"] > 0
    assert rows[("hot", "pessimistic")]["me_ratio"] > 0
    # and the results are written: the JSON with the numbers, the Markdown table
    written = json.loads((tiny_config.results_dir / "harness.json").read_text())
    assert written["summary"]["rows"] == json.loads(json.dumps(result["summary"]["rows"]))
    assert (tiny_config.results_dir / "harness.md").read_text() == report
    assert "| booking, one hot flight | pessimistic | 2 |" in report


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
