"""`make bench-capacity`: how many web cores one primary carries, from CPU seconds per booking.

On a MariaDB primary of the bench's own (bench/own_primary.py: binary log on, every commit flushed,
nothing else running on it), for each of `--runs` repetitions and each booking strategy:

- (a) web CPU per booking: the production server (airline/serve.py) takes bookings from wrk at
  `--clients` connections for `--duration` seconds, spread over 250 flights, then on one hot flight;
  the CPU seconds of every process of the server (its session, bench/cpu.py) over the window ÷ the
  bookings made in it (201s);
- (b) database CPU per booking: mariadbd's CPU seconds over the same window ÷ the same bookings;
- (c) the one-row ceiling, twice: the bare SQL hold (bench/ceiling.py, as in `make bench`), and how
  long Airline's own hold keeps the flight's row locked: POST /api/v1/bookings run in this process
  through the WSGI handler one at a time on one flight, timed from the start of the statement that
  locks the row (`SELECT … FOR UPDATE`, or the optimistic conditional `UPDATE`) to the end of its
  COMMIT. One flight sells at most 1 / that time holds a second, whatever the number of web nodes.

Inventory is checked after every window (bench/data.py). `capacity_arithmetic` turns the medians
into bookings/s per web core, web cores that saturate the hot row, and web cores per primary core;
the report goes to bench/results/<name>.md and .json (and stdout). docs/SCALING.md reads it.

The machine is shared (2 cores: server, MariaDB and wrk together): CPU seconds per booking are far
steadier than throughput there, which is why capacity is worked out from them; medians of the runs.
"""

import argparse
import json
import logging
import os
import statistics
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import environ

from bench.cpu import cpu_seconds, session_cpu_seconds
from bench.own_primary import Prepared, prepared
from bench.run import (
    LOG_DIR,
    MAX_HOT_SEATS,
    RESULTS_DIR,
    STRATEGY_CEILING,
    Config,
    database_params,
    run_subprocess_job,
    terminate_as_exit,
)
from bench.server import Server, ServerSpec
from bench.wrk_load import run_wrk

STRATEGIES = ("pessimistic", "optimistic")
CEILING_SECONDS = 2.0
LOCK_SAMPLES = 200  # holds timed in this process, per strategy and run (after LOCK_WARMUP)
LOCK_WARMUP = 20


def _log(message: str) -> None:
    sys.stderr.write(f"[bench-capacity {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def cpu_window(
    server: Server,
    prep: Prepared,
    flight_ids: list[int],
    *,
    clients: int,
    duration: float,
    tokens: list[str],
    booked_before: int = 0,
) -> dict[str, Any]:
    """Bookings from wrk for one window; the server's and mariadbd's CPU seconds over it. The flights'
    inventory is checked after it, counting `booked_before` 201s of earlier windows on them."""
    from bench import data

    mariadbd = prep.pair.primary.process.pid
    waits_before = _row_lock_waits(prep)
    web_before, db_before = session_cpu_seconds(server.process.pid), cpu_seconds(mariadbd)
    result = run_wrk(
        "booking",
        server.base_url,
        concurrency=clients,
        duration=duration,
        tokens=tokens,
        flight_ids=flight_ids,
        params={"stop_on": "sold_out"},
    )
    web_cpu_s = session_cpu_seconds(server.process.pid) - web_before
    db_cpu_s = cpu_seconds(mariadbd) - db_before
    waits = {key: value - waits_before[key] for key, value in _row_lock_waits(prep).items()}
    bookings = result["statuses"].get("201", 0)
    check = data.inventory_check(
        flight_ids, bookings_answered=booked_before + bookings, all_counted=result["drained"]
    )
    return {
        "bookings": bookings,
        "elapsed_s": result["elapsed_s"],
        "bookings_per_s": result["ok_per_s"],
        "p99_ms": result["p99_ms"],
        "web_cpu_s": web_cpu_s,
        "db_cpu_s": db_cpu_s,
        "wrk_cpu_s": result["client_cpu_s"],
        # InnoDB's row lock waits over the window: how many, and the mean number of requests waiting
        # (total milliseconds waited ÷ the window's)
        "row_lock_waits": waits["Innodb_row_lock_waits"],
        "mean_waiting": waits["Innodb_row_lock_time"] / (1000 * result["elapsed_s"])
        if result["elapsed_s"]
        else 0,
        "statuses": result["statuses"],
        "bookings_in_db": check["bookings_in_db"],
        "inventory_ok": check["ok"],
        "oversold": check["oversold"],
    }


def _row_lock_waits(prep: Prepared) -> dict[str, int]:
    rows = prep.pair.primary.query(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_row_lock_waits', 'Innodb_row_lock_time')"
    )
    return {name: int(value) for name, value in rows}


def lock_held_ms(prep: Prepared, strategy: str, samples: int) -> list[float]:
    """Milliseconds the flight's row stays locked by each of `samples` holds through the whole WSGI
    stack, one at a time (no waiting on the lock): from the start of the locking statement to the
    end of the COMMIT (an on_commit callback registered at the lock runs right after it)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection, transaction
    from django.test.utils import override_settings

    from bench import data
    from bench.profile import _wsgi_environ

    token = data.access_tokens(prep.users[:1])[0]
    (flight_id,) = data.flights_make(prep.catalogue.airports, count=1, seats=MAX_HOT_SEATS)
    if samples + LOCK_WARMUP > MAX_HOT_SEATS:
        raise ValueError(f"at most {MAX_HOT_SEATS - LOCK_WARMUP} samples on one flight")
    body = json.dumps({"flight_id": flight_id, "passengers": [{"first_name": "Lock", "last_name": "Timer"}]})
    handler = WSGIHandler()
    held: list[float] = []
    locked_at: list[float] = []

    def timer(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statement = sql.lstrip().upper()
        locks_flight = "FLIGHTS_FLIGHT" in statement and (
            statement.endswith("FOR UPDATE") or statement.startswith("UPDATE")
        )
        if locks_flight and not locked_at:
            locked_at.append(time.perf_counter())
            transaction.on_commit(lambda: held.append((time.perf_counter() - locked_at[0]) * 1000))
        return execute(sql, params, many, context)

    def call() -> None:
        statuses: list[str] = []
        environ_ = _wsgi_environ(body.encode(), token) | {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex}
        answer = handler(environ_, lambda status, headers: statuses.append(status))
        b"".join(answer)
        answer.close()
        if not statuses[0].startswith("201"):
            raise RuntimeError(f"a timed hold answered {statuses[0]}")

    access_log = logging.getLogger("airline.access")  # one line per hold: not wanted on the console here
    level = access_log.level
    access_log.setLevel(logging.WARNING)
    try:
        with override_settings(BOOKING_LOCK_STRATEGY=strategy), connection.execute_wrapper(timer):
            for _ in range(LOCK_WARMUP + samples):
                locked_at.clear()
                call()
    finally:
        access_log.setLevel(level)
    if len(held) != LOCK_WARMUP + samples:
        raise RuntimeError(f"{len(held)} lock timings for {LOCK_WARMUP + samples} holds")
    return held[LOCK_WARMUP:]


def ceiling(prep: Prepared, strategy: str, clients: int) -> float:
    job = {
        "database": database_params(prep.config.database_url),
        "form": STRATEGY_CEILING[strategy],
        "concurrency": clients,
        "duration": CEILING_SECONDS,
    }
    return run_subprocess_job("bench.ceiling", job, CEILING_SECONDS + 60)["ok_per_s"]


def measure(prep: Prepared, *, runs: int, clients: int, duration: float, strategies: tuple[str, ...]) -> list:
    """One record per run and strategy: the spread and hot windows, lock times, the bare ceiling."""
    from bench import data

    records = []
    spread_booked = 0  # bookings on the spread flights so far, every window
    for run in range(1, runs + 1):
        for strategy in strategies:
            tokens = data.access_tokens(prep.users)
            log_path = LOG_DIR / f"{prep.config.name}-{run}-{strategy}.log"
            _log(f"run {run}/{runs} · {strategy} · start the server")
            env = prep.config.server_env(strategy)
            with Server(ServerSpec.production(), env=env, log_path=log_path) as server:
                warm = data.flights_make(prep.catalogue.airports, count=1, seats=MAX_HOT_SEATS)
                run_wrk(
                    "booking",
                    server.base_url,
                    concurrency=clients,
                    duration=1.0,
                    tokens=tokens,
                    flight_ids=warm,
                )
                spread = cpu_window(
                    server,
                    prep,
                    prep.spread_ids,
                    clients=clients,
                    duration=duration,
                    tokens=tokens,
                    booked_before=spread_booked,
                )
                spread_booked = spread["bookings_in_db"]
                seats, window = prep.config.hot_plan(spread["bookings_per_s"])
                hot_flight = data.flights_make(prep.catalogue.airports, count=1, seats=seats)
                hot = cpu_window(server, prep, hot_flight, clients=clients, duration=window, tokens=tokens)
            locks = lock_held_ms(prep, strategy, LOCK_SAMPLES)
            record = {
                "run": run,
                "strategy": strategy,
                "spread": spread,
                "hot": hot,
                "lock_held_ms_p50": statistics.median(locks),
                "lock_held_ms_p90": statistics.quantiles(locks, n=10)[-1],
                "bare_ceiling_per_s": ceiling(prep, strategy, clients),
            }
            records.append(record)
            _log(
                f"  spread {spread['bookings_per_s']:.0f}/s, web {_ms(spread, 'web'):.2f} ms and mariadbd"
                f" {_ms(spread, 'db'):.2f} ms CPU per booking; hot {hot['bookings_per_s']:.0f}/s, web"
                f" {_ms(hot, 'web'):.2f} ms, mariadbd {_ms(hot, 'db'):.2f} ms; row locked"
                f" {record['lock_held_ms_p50']:.2f} ms (p50); bare"
                f" ceiling {record['bare_ceiling_per_s']:.0f}/s"
            )
    return records


def _ms(window: dict[str, Any], part: str) -> float:
    return 1000 * window[f"{part}_cpu_s"] / max(1, window["bookings"])


def capacity_arithmetic(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per strategy, from the medians over the runs:

    - web_ms, db_ms: CPU milliseconds per booking of the web server and of mariadbd (spread; and
      `hot_` the same on one flight);
    - bookings_per_web_core = 1000 / web_ms (spread), hot_bookings_per_web_core = 1000 / hot_web_ms;
    - row_ceiling_per_s = 1000 / lock_held_ms (Airline's hold, one at a time); bare_ceiling_per_s;
    - web_cores_to_saturate_row = row_ceiling_per_s / hot_bookings_per_web_core (and with the bare
      ceiling: an upper bound no shorter lock can beat);
    - primary_core_bookings_per_s = 1000 / db_ms (spread), web_cores_per_primary_core = web_ms / db_ms;
    - primary_cores_at_row_ceiling = row_ceiling_per_s × hot_db_ms / 1000 (what one flight at its
      ceiling costs the primary);
    - hot_mean_waiting: requests waiting on the hot flight's row, on average over the window (with
      one or more, the row was busy nearly all the time: the holds then took 1000 / hot bookings/s
      ms each, the holder sharing the CPU with everything else).
    """
    result = {}
    for strategy in dict.fromkeys(record["strategy"] for record in records):
        mine = [record for record in records if record["strategy"] == strategy]

        def median(figure: Any, mine: list = mine) -> float:
            return statistics.median(figure(record) for record in mine)

        web_ms = median(lambda r: _ms(r["spread"], "web"))
        db_ms = median(lambda r: _ms(r["spread"], "db"))
        hot_web_ms = median(lambda r: _ms(r["hot"], "web"))
        hot_db_ms = median(lambda r: _ms(r["hot"], "db"))
        lock_ms = median(lambda r: r["lock_held_ms_p50"])
        bare = median(lambda r: r["bare_ceiling_per_s"])
        row_ceiling = 1000 / lock_ms
        hot_per_core = 1000 / hot_web_ms
        result[strategy] = {
            "runs": len(mine),
            "web_ms": web_ms,
            "db_ms": db_ms,
            "hot_web_ms": hot_web_ms,
            "hot_db_ms": hot_db_ms,
            "lock_held_ms": lock_ms,
            "bookings_per_web_core": 1000 / web_ms,
            "hot_bookings_per_web_core": hot_per_core,
            "row_ceiling_per_s": row_ceiling,
            "bare_ceiling_per_s": bare,
            "web_cores_to_saturate_row": row_ceiling / hot_per_core,
            "web_cores_to_saturate_bare_row": bare / hot_per_core,
            "primary_core_bookings_per_s": 1000 / db_ms,
            "web_cores_per_primary_core": web_ms / db_ms,
            "primary_cores_at_row_ceiling": row_ceiling * hot_db_ms / 1000,
            "spread_bookings_per_s": median(lambda r: r["spread"]["bookings_per_s"]),
            "hot_bookings_per_s": median(lambda r: r["hot"]["bookings_per_s"]),
            "hot_mean_waiting": median(lambda r: r["hot"]["mean_waiting"]),
        }
    return result


def markdown_report(result: dict[str, Any]) -> str:
    config = result["config"]
    lines = [
        f"# Capacity: web cores per primary ({result['name']})",
        "",
        f"{config['runs']} run(s); production server"
        f" {result['server']} on a MariaDB primary of the bench's own"
        f" (binary log, innodb_flush_log_at_trx_commit=1); wrk at {config['clients']} clients for"
        f" {config['duration']:.1f} s per window; everything on the same {result['machine']['cpus']} cores,"
        f" shared with other work (load average at the start:"
        f" {result['load_at_start']}). Medians of the runs;"
        f" started {result['started_at'][:16]} UTC. How it is measured: bench/capacity.py.",
        "",
        "## Measured (medians)",
        "",
        "| strategy | spread bookings/s | web CPU ms per booking | mariadbd CPU ms per booking"
        " | hot flight bookings/s | web ms (hot) | mariadbd ms"
        " (hot) | row locked per hold (p50) | bare SQL ceiling |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for strategy, c in result["capacity"].items():
        lines.append(
            f"| {strategy} | {c['spread_bookings_per_s']:.0f} | {c['web_ms']:.2f} | {c['db_ms']:.2f}"
            f" | {c['hot_bookings_per_s']:.0f} | {c['hot_web_ms']:.2f} | {c['hot_db_ms']:.2f}"
            f" | {c['lock_held_ms']:.2f} ms | {c['bare_ceiling_per_s']:.0f}/s |"
        )
    lines += ["", "## The arithmetic", ""]
    for strategy, c in result["capacity"].items():
        lines += [
            f"**{strategy}**",
            "",
            f"- one web core serves 1000 / {c['web_ms']:.2f} ms"
            f" = **{c['bookings_per_web_core']:.0f} bookings/s**"
            f" spread over many flights, 1000 / {c['hot_web_ms']:.2f}"
            f" = {c['hot_bookings_per_web_core']:.0f}/s"
            " on one hot flight;",
            f"- one flight's row: Airline's hold keeps it locked {c['lock_held_ms']:.2f} ms, so at most"
            f" 1000 / {c['lock_held_ms']:.2f} = **{c['row_ceiling_per_s']:.0f} holds/s** on one flight"
            f" (bare SQL: {c['bare_ceiling_per_s']:.0f}/s);",
            f"- web cores that saturate the hot row: {c['row_ceiling_per_s']:.0f}"
            f" / {c['hot_bookings_per_web_core']:.0f}"
            f" = **{c['web_cores_to_saturate_row']:.1f}**"
            f" ({c['web_cores_to_saturate_bare_row']:.1f} at the bare"
            " SQL ceiling);",
            f"- one primary core takes 1000 / {c['db_ms']:.2f} ms = **{c['primary_core_bookings_per_s']:.0f}"
            f" spread bookings/s**, what {c['web_ms']:.2f} / {c['db_ms']:.2f} ="
            f" **{c['web_cores_per_primary_core']:.1f} web cores** send;",
            f"- one flight at its row ceiling costs the primary {c['row_ceiling_per_s']:.0f} ×"
            f" {c['hot_db_ms']:.2f} ms = {c['primary_cores_at_row_ceiling']:.2f} cores;",
            f"- here, under load: {c['hot_mean_waiting']:.1f} requests waited on the hot flight's row on"
            f" average while it took {c['hot_bookings_per_s']:.0f} holds/s, one per"
            f" {1000 / c['hot_bookings_per_s']:.1f} ms (the holder sharing {result['machine']['cpus']} cores"
            " with the server's other threads, mariadbd and wrk).",
            "",
        ]
    lines += [
        "## Every run",
        "",
        "| run | strategy | spread/s | web ms | db ms | hot/s | web ms | db ms | hot: waiting on the row"
        " | lock p50 / p90 | bare ceiling | inventory |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["records"]:
        spread, hot = r["spread"], r["hot"]
        inventory = "ok" if spread["inventory_ok"] and hot["inventory_ok"] else "FAILED"
        lines.append(
            f"| {r['run']} | {r['strategy']} | {spread['bookings_per_s']:.0f} | {_ms(spread, 'web'):.2f}"
            f" | {_ms(spread, 'db'):.2f} | {hot['bookings_per_s']:.0f}"
            f" | {_ms(hot, 'web'):.2f} | {_ms(hot, 'db'):.2f}"
            f" | {hot['mean_waiting']:.1f} on average ({hot['row_lock_waits']} waits)"
            f" | {r['lock_held_ms_p50']:.2f} / {r['lock_held_ms_p90']:.2f}"
            f" ms | {r['bare_ceiling_per_s']:.0f}/s"
            f" | {inventory} |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    env = environ.Env()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default=env("BENCH_NAME", default=""))
    parser.add_argument("--runs", type=int, default=env.int("BENCH_RUNS", default=3))
    parser.add_argument("--duration", type=float, default=env.float("BENCH_DURATION", default=4.0))
    parser.add_argument("--clients", type=int, default=env.int("BENCH_CLIENTS", default=32))
    parser.add_argument("--strategies", default=env("BENCH_STRATEGIES", default=",".join(STRATEGIES)))
    args, rest = parser.parse_known_args(argv)
    name = args.name or f"capacity-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    strategies = tuple(args.strategies.split(","))
    config = replace(Config.from_environment(rest), name=name, duration=args.duration)
    started, load = datetime.now(UTC), os.getloadavg()
    with terminate_as_exit(), prepared(config, replica=False, users=args.clients) as prep:
        records = measure(
            prep, runs=args.runs, clients=args.clients, duration=args.duration, strategies=strategies
        )
    result = {
        "name": name,
        "started_at": started.isoformat(),
        "elapsed_s": (datetime.now(UTC) - started).total_seconds(),
        "load_at_start": " / ".join(f"{value:.2f}" for value in load),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "server": ServerSpec.production().label,
        "config": {"runs": args.runs, "duration": args.duration, "clients": args.clients},
        "records": records,
        "capacity": capacity_arithmetic(records),
    }
    report = markdown_report(result)
    results_dir = Path(os.environ.get("BENCH_RESULTS_DIR", RESULTS_DIR))
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (results_dir / f"{name}.md").write_text(report)
    sys.stdout.write(report)
    inventory_ok = all(r["spread"]["inventory_ok"] and r["hot"]["inventory_ok"] for r in records)
    return 0 if inventory_ok else 1


if __name__ == "__main__":
    sys.exit(main())
