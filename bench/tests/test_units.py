"""The benchmark's pure parts: server variants, hot-flight sizing, goals, progress, charts, the capacity
arithmetic and the replica scenario's checks."""

import os
import signal
import subprocess
import sys
import time

import pytest

from bench.capacity import capacity_arithmetic
from bench.chart import chart_svg
from bench.cpu import cpu_seconds, session_cpu_seconds
from bench.progress import Progress
from bench.replica import window_checks
from bench.report import goals_evaluate
from bench.run import MAX_HOT_SEATS, Config
from bench.server import ServerSpec


def test_server_variants_parse_into_gunicorn_overrides_or_granian():
    # given variant strings, when parsed, then each says what runs and whether it keeps connections
    gthread = ServerSpec.parse("gthread:2x8")
    assert (gthread.kind, gthread.workers, gthread.threads, gthread.keepalive) == ("gunicorn", 2, 8, True)
    assert gthread.environment() == {
        "GUNICORN_WORKER_CLASS": "gthread",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "8",
    }
    sync = ServerSpec.parse("sync:5")
    assert (sync.threads, sync.keepalive, sync.label) == (1, False, "sync:5")
    granian = ServerSpec.parse("granian:3x4")
    assert granian.environment() == {}
    assert "--blocking-threads=4" in granian.command(8000)


@pytest.mark.parametrize("text", ["gthread", "gthread:x4", "sync:4x2", "eventlet:4", "gthread:0x4"])
def test_a_malformed_server_variant_is_refused(text):
    with pytest.raises(ValueError, match="server"):
        ServerSpec.parse(text)


def test_the_production_server_is_airline_serve_py_whatever_the_shell_exports(monkeypatch):
    # given a shell that exported overrides
    monkeypatch.setenv("SERVER_WORKERS", "17")
    monkeypatch.setenv("GUNICORN_WORKERS", "17")

    # when the bench reads the production configuration
    spec = ServerSpec.production()

    # then it is airline/serve.py's own values, run as the image runs them, on the bench's port
    assert (spec.kind, spec.worker_class, spec.workers, spec.threads) == ("conf", "granian", 3, 4)
    assert spec.label == "granian:3x4 (airline/serve.py)"
    assert spec.environment() == {}
    command = spec.command(8123)
    assert command[0].endswith("granian")
    assert {"--host=127.0.0.1", "--port=8123", "--workers=3", "--blocking-threads=4"} <= set(command)
    assert command[-1] == "airline.wsgi:application"


def test_the_hot_flight_is_sized_not_to_sell_out_and_the_window_shrinks_past_the_layout():
    config = Config(name="t", duration=2.0)
    # twice what 100 bookings/s sell in 2 s
    assert config.hot_plan(100.0) == (400, 2.0)
    # 1,000/s would need 4,000 seats: the flight is the largest layout and the window fits it
    seats, window = config.hot_plan(1000.0)
    assert seats == MAX_HOT_SEATS
    assert window == pytest.approx(0.75)
    # a tiny rate still gets a flight of 20 seats
    assert config.hot_plan(1.0) == (20, 2.0)


def _row(scenario, strategy, ok, ratio, p50=1.0, p99=50.0, clients=32, **extra):
    return {
        "scenario": scenario,
        "strategy": strategy,
        "server": "conf",
        "concurrency": clients,
        "runs": 1,
        "ok_per_s": ok,
        "me_ratio": ratio,
        "p50_ms": p50,
        "p99_ms": p99,
        **extra,
    }


def test_goals_are_ratios_to_auth_me_with_p99_and_a_hot_flight_that_did_not_sell_out():
    # given a run where spread meets its goal, the hot flight is fast enough but sold out once,
    # flight detail falls short, and one booking at 1 client takes 5 ms
    rows = [
        _row("me", "pessimistic", 1000, 1.0),
        _row("spread", "pessimistic", 450, 0.45, p99=120, checks_ok=True, oversold=0),
        _row("spread", "pessimistic", 200, 0.2, p50=5.0, clients=1, checks_ok=True, oversold=0),
        _row("hot", "pessimistic", 350, 0.35, p99=140, sold_out_runs=1, checks_ok=True, oversold=0),
        _row("flight", "pessimistic", 1400, 1.4),
    ]

    # when the goals are judged at 32 clients
    goals = {goal["goal"].split(" ≥")[0].split(":")[0]: goal for goal in goals_evaluate(rows, "conf", 32)}

    # then each verdict follows the numbers
    assert goals["booking, many flights (pessimistic)"]["met"] is True
    assert goals["booking, one hot flight (pessimistic)"]["met"] is False
    assert "sold out in 1 of 1 run(s)" in goals["booking, one hot flight (pessimistic)"]["value"]
    assert goals["flight detail"]["met"] is False
    assert goals["one booking at 1 client (pessimistic)"]["met"] is False
    assert goals["zero oversell, inventory exact, one booking per 201 (every run, server, strategy)"]["met"]
    assert (
        goals["auth/me itself not slower (compare with the previous run on the same machine)"]["met"] is None
    )


def test_progress_estimates_what_is_left_from_the_pace_so_far():
    # given a plan of 4 steps and a clock that moves 10 s per step
    now = [0.0]
    lines: list[str] = []
    progress = Progress(4, first_guess_s=3.0, write=lines.append, clock=lambda: now[0])

    # when two steps have run
    progress.step("first")
    now[0] = 10.0
    progress.step("second")
    now[0] = 20.0

    # then the first line used the plan's guess, the second the pace, and 2 steps × 10 s are left
    assert "step 1/4 · first · 0:00 elapsed, about 0:12 left" in lines[0]
    assert "step 2/4 · second · 0:10 elapsed, about 0:30 left" in lines[1]
    assert progress.estimate_left_s() == pytest.approx(20.0)


def test_a_chart_has_a_line_and_a_legend_entry_per_series():
    svg = chart_svg(
        "booking", {"conf, pessimistic": [(1, 50.0), (32, 400.0)], "sync:4, pessimistic": [(1, 40.0)]}
    )
    assert svg.startswith("<svg")
    assert svg.count("<polyline") == 2
    assert ">conf, pessimistic</text>" in svg
    assert "400/s at 32 clients" in svg


def _capacity_record(strategy, *, web_s, db_s, bookings, hot_web_s, hot_db_s, hot_bookings, lock_ms, bare):
    def window(web_cpu_s, db_cpu_s, count):
        return {
            "bookings": count,
            "bookings_per_s": count / 4,
            "web_cpu_s": web_cpu_s,
            "db_cpu_s": db_cpu_s,
            "mean_waiting": 1.5,
        }

    return {
        "strategy": strategy,
        "spread": window(web_s, db_s, bookings),
        "hot": window(hot_web_s, hot_db_s, hot_bookings),
        "lock_held_ms_p50": lock_ms,
        "bare_ceiling_per_s": bare,
    }


def test_capacity_arithmetic_takes_medians_of_cpu_per_booking_and_divides_the_ceilings_by_them():
    # given three runs of one strategy: 1,000 spread bookings costing 3 / 3.5 / 4 s of web CPU and
    # 1.5 s of mariadbd CPU, 500 hot bookings costing 2 s web and 1 s mariadbd, the row locked 2 ms
    records = [
        _capacity_record(
            "pessimistic",
            web_s=web_s,
            db_s=1.5,
            bookings=1000,
            hot_web_s=2.0,
            hot_db_s=1.0,
            hot_bookings=500,
            lock_ms=lock_ms,
            bare=bare,
        )
        for web_s, lock_ms, bare in ((3.0, 2.5, 2000), (4.0, 2.0, 1800), (3.5, 1.0, 2200))
    ]

    # when the arithmetic is done
    (strategy, figures), *others = capacity_arithmetic(records).items()

    # then it uses the medians: 3.5 ms web and 1.5 ms mariadbd per spread booking, 4 ms each hot one,
    # a 2 ms lock and a 2,000/s bare ceiling
    assert (strategy, others) == ("pessimistic", [])
    assert figures["web_ms"] == pytest.approx(3.5)
    assert figures["db_ms"] == pytest.approx(1.5)
    assert figures["hot_web_ms"] == pytest.approx(4.0)
    assert figures["bookings_per_web_core"] == pytest.approx(1000 / 3.5)
    assert figures["hot_bookings_per_web_core"] == pytest.approx(250)
    assert figures["row_ceiling_per_s"] == pytest.approx(500)
    # 500 holds/s on the row ÷ 250 hot bookings/s per web core = 2 web cores saturate it
    assert figures["web_cores_to_saturate_row"] == pytest.approx(2.0)
    assert figures["web_cores_to_saturate_bare_row"] == pytest.approx(8.0)
    # one primary core: 1000 / 1.5 ms = 667 spread bookings/s, what 3.5 / 1.5 = 2.33 web cores send
    assert figures["primary_core_bookings_per_s"] == pytest.approx(1000 / 1.5)
    assert figures["web_cores_per_primary_core"] == pytest.approx(3.5 / 1.5)
    # one flight at 500 holds/s costing 2 ms of mariadbd each: one primary core
    assert figures["primary_cores_at_row_ceiling"] == pytest.approx(1.0)
    assert figures["hot_mean_waiting"] == pytest.approx(1.5)


def _replica_window(mode, *, replica_selects, misses=100, searches=100, oversold=0):
    return {
        "mode": mode,
        "search": {"ok": searches, "requests": searches, "cache": {"miss": misses}, "transport_errors": 0},
        "booking": {"ok": 50, "transport_errors": 0},
        "replica_selects": replica_selects,
        "inventory": {"ok": oversold == 0, "oversold": oversold},
    }


def test_the_replica_scenario_checks_where_the_reads_went_and_the_inventory():
    # a window that read the replica once per search, and one with no replica that left it idle: well
    assert window_checks(_replica_window("replica", replica_selects=104)) == []
    assert window_checks(_replica_window("primary only", replica_selects=0)) == []
    # searches that did not reach the replica, or a replica read with none configured, fail
    assert window_checks(_replica_window("replica", replica_selects=3)) == [
        "the replica ran 3 SELECTs for 100 searches"
    ]
    assert window_checks(_replica_window("primary only", replica_selects=7)) == [
        "the replica ran 7 SELECTs with no replica configured"
    ]
    # cache hits (the search was not uncached) and an oversold flight fail too
    assert window_checks(_replica_window("replica", replica_selects=100, misses=90)) == [
        "10 of 100 searches were not cache misses"
    ]
    (failure,) = window_checks(_replica_window("replica", replica_selects=100, oversold=1))
    assert failure.startswith("inventory check failed")


def test_a_servers_cpu_counts_every_process_of_its_session_the_workers_included():
    # given a process in a session of its own that starts two children, each burning 0.4 s of CPU
    burn = (
        "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\ntime.sleep(30)"
    )
    parent = (
        "import subprocess, sys, time\n"
        f"children = [subprocess.Popen([sys.executable, '-c', {burn!r}]) for _ in range(2)]\n"
        "time.sleep(30)"
    )
    server = subprocess.Popen([sys.executable, "-c", parent], start_new_session=True)
    try:
        # when its session's CPU is read until the children have burnt theirs
        deadline = time.monotonic() + 20
        while session_cpu_seconds(server.pid) < 0.6 and time.monotonic() < deadline:
            time.sleep(0.05)

        # then both children are counted (0.8 s less the kernel's rounding to ticks), not the whole machine
        counted = session_cpu_seconds(server.pid)
        assert 0.6 <= counted < 2.0, f"{counted} CPU seconds counted"
        assert cpu_seconds(server.pid) < 0.6  # the parent alone does not reach it
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
