"""`make bench-replica`: uncached search on a read replica while bookings run on the primary.

One invocation (about a minute on 2 cores; docs/BENCHMARK.md, "Search on a replica"):

1. start a MariaDB primary (binary log, GTID) and a replica of the bench's own, create and migrate
   the bench database on the primary and load the bench data there; it replicates
   (bench/own_primary.py);
2. for each of BENCH_RUNS repetitions and each mode, start the production server (airline/serve.py)
   on the primary, with `DATABASE_REPLICA_URLS` = the replica ("replica") or with no replica
   configured ("primary only"), warm it up, and run two wrk processes AT THE SAME TIME for the same
   window: the uncached search (bench/wrk/search.lua, a price maximum never sent before on each
   request) and bookings spread over 250 flights (bench/wrk/booking.lua);
3. around each window, read both servers' Com_select and mariadbd CPU seconds, and after it check
   the bookings' inventory (bench/data.py: no oversell, the counter equals the seats sold, one
   booking per 201).

Checks (any failure makes the exit status 1): every search answer was a cache miss; with the replica
configured, the replica ran at least one SELECT per search answered (the search reads it); with none
configured, the replica ran no SELECT at all; no transport error; the inventory check passed.

Results: bench/results/<name>.json and .md (the report is printed too; BENCH_RESULTS_DIR moves
them). Settings: BENCH_RUNS (3), BENCH_DURATION (3 s), BENCH_QUICK (1 run of 1.5 s),
BENCH_SEARCH_CLIENTS and BENCH_BOOKING_CLIENTS (16 each), BENCH_NAME, and the Redis, broker and queue
variables of bench/run.py (its database is the pair's own). `make bench` runs it after bench/run.py.
"""

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import environ

from apps.core.testing.mariadb_pair import MariaDBPair
from bench.cpu import cpu_seconds
from bench.own_primary import Prepared, prepared
from bench.run import (
    LOG_DIR,
    MAX_HOT_SEATS,
    RESULTS_DIR,
    UNIQUE_PRICE_BASE,
    UNIQUE_PRICE_STEP,
    Config,
    terminate_as_exit,
)
from bench.server import Server, ServerSpec
from bench.wrk_load import run_wrk

MODES = ("replica", "primary only")
STRATEGY = "pessimistic"  # the production default (BOOKING_LOCK_STRATEGY)


def _log(message: str) -> None:
    sys.stderr.write(f"[bench-replica {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


class ReplicaBench:
    def __init__(
        self, prep: Prepared, *, runs: int, duration: float, search_clients: int, booking_clients: int
    ) -> None:
        self.prep, self.runs, self.duration = prep, runs, duration
        self.search_clients, self.booking_clients = search_clients, booking_clients
        self.windows: list[dict[str, Any]] = []
        self.salt = 0
        self.booked = 0  # 201s on the spread flights so far, every window
        query = dict(prep.catalogue.search_query)
        low, _, _high = query.pop("price").partition("-")
        self.search_base = {
            "query": "&".join(f"{key}={value}" for key, value in query.items()),
            "price_low": low,
        }

    def search_params(self) -> dict[str, Any]:
        """Uncached: a price maximum above every fare, never sent before in this invocation."""
        self.salt += 1
        price_max = UNIQUE_PRICE_BASE + self.salt * UNIQUE_PRICE_STEP
        if price_max + UNIQUE_PRICE_STEP >= 10**8:
            raise RuntimeError("too many uncached search runs for unique 8-digit prices")
        return {**self.search_base, "price_max": price_max, "unique": 1}

    def server_env(self, mode: str) -> dict[str, str]:
        env = self.prep.config.server_env(STRATEGY)
        env["DATABASE_REPLICA_URLS"] = self.prep.replica_url if mode == "replica" else ""
        return env

    def execute(self) -> None:
        from bench import data

        for run in range(1, self.runs + 1):
            for mode in MODES:
                tokens = data.access_tokens(self.prep.users)
                log_path = LOG_DIR / f"{self.prep.config.name}-{run}-{mode.replace(' ', '-')}.log"
                _log(f"run {run}/{self.runs} · {mode} · start the server")
                with Server(ServerSpec.production(), env=self.server_env(mode), log_path=log_path) as server:
                    self.warm_up(server, tokens)
                    self.prep.pair.wait_caught_up()
                    window = self.window(server, tokens)
                window.update(run=run, mode=mode)
                window["checks"] = window_checks(window)
                self.windows.append(window)
                _log(
                    f"  {mode}: search {window['search']['ok_per_s']:.0f}/s, bookings"
                    f" {window['booking']['ok_per_s']:.0f}/s, replica SELECTs {window['replica_selects']},"
                    f" primary SELECTs {window['primary_selects']}"
                    + ("" if not window["checks"] else f" · FAILED: {'; '.join(window['checks'])}")
                )

    def warm_up(self, server: Server, tokens: list[str]) -> None:
        """Every worker and thread loaded once (imports, connections to both servers) before measuring."""
        from bench import data

        seconds, clients = 1.0, self.search_clients + self.booking_clients
        run_wrk("search", server.base_url, concurrency=clients, duration=seconds, params=self.search_params())
        warm_flight = data.flights_make(self.prep.catalogue.airports, count=1, seats=MAX_HOT_SEATS)
        run_wrk(
            "booking",
            server.base_url,
            concurrency=clients,
            duration=seconds,
            tokens=tokens,
            flight_ids=warm_flight,
        )

    def window(self, server: Server, tokens: list[str]) -> dict[str, Any]:
        from bench import data

        pair = self.prep.pair
        before = _servers_now(pair)
        with ThreadPoolExecutor(max_workers=2) as pool:
            search = pool.submit(
                run_wrk,
                "search",
                server.base_url,
                concurrency=self.search_clients,
                duration=self.duration,
                params=self.search_params(),
            )
            booking = pool.submit(
                run_wrk,
                "booking",
                server.base_url,
                concurrency=self.booking_clients,
                duration=self.duration,
                tokens=tokens,
                flight_ids=self.prep.spread_ids,
            )
            search_result, booking_result = search.result(), booking.result()
        after = _servers_now(pair)
        self.booked += booking_result["statuses"].get("201", 0)
        check = data.inventory_check(
            self.prep.spread_ids, bookings_answered=self.booked, all_counted=booking_result["drained"]
        )
        self.booked = check["bookings_in_db"]
        return {
            "search": _brief(search_result),
            "booking": _brief(booking_result),
            "inventory": check,
            **{key: after[key] - before[key] for key in before},
        }


def _servers_now(pair: MariaDBPair) -> dict[str, float]:
    return {
        "primary_selects": pair.primary.selects(),
        "replica_selects": pair.replica.selects(),
        "primary_cpu_s": cpu_seconds(pair.primary.process.pid),
        "replica_cpu_s": cpu_seconds(pair.replica.process.pid),
    }


def _brief(result: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "concurrency",
        "elapsed_s",
        "requests",
        "ok",
        "ok_per_s",
        "p50_ms",
        "p99_ms",
        "statuses",
        "codes",
        "cache",
    )
    return {key: result[key] for key in keys} | {
        "transport_errors": result["transport_errors"],
        "drained": result["drained"],
    }


def window_checks(window: dict[str, Any]) -> list[str]:
    """What went wrong in one window (empty: all well). Where the reads went, from Com_select: with
    the replica configured, the uncached search reads it, so it ran at least one SELECT per search
    answered; with none configured, it ran none (its replication thread applies rows, not SELECTs)."""
    failures = []
    search, booking = window["search"], window["booking"]
    if search["ok"] == 0 or booking["ok"] == 0:
        failures.append(f"no answers (search {search['ok']}, bookings {booking['ok']})")
    misses = search["cache"].get("miss", 0)
    if misses != search["requests"]:
        failures.append(
            f"{search['requests'] - misses} of {search['requests']} searches were not cache misses"
        )
    if window["mode"] == "replica" and window["replica_selects"] < search["ok"]:
        failures.append(f"the replica ran {window['replica_selects']} SELECTs for {search['ok']} searches")
    if window["mode"] == "primary only" and window["replica_selects"] != 0:
        failures.append(f"the replica ran {window['replica_selects']} SELECTs with no replica configured")
    if search["transport_errors"] or booking["transport_errors"]:
        failures.append("transport errors")
    if not window["inventory"]["ok"]:
        failures.append(f"inventory check failed: {window['inventory']}")
    return failures


def summarise(windows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per mode, the median over the runs of each figure of a window."""

    def median(mode: str, figure: Any) -> float:
        return statistics.median(figure(window) for window in windows if window["mode"] == mode)

    figures = {
        "search_per_s": lambda w: w["search"]["ok_per_s"],
        "search_p99_ms": lambda w: w["search"]["p99_ms"],
        "bookings_per_s": lambda w: w["booking"]["ok_per_s"],
        "booking_p99_ms": lambda w: w["booking"]["p99_ms"],
        "replica_selects_per_search": lambda w: w["replica_selects"] / max(1, w["search"]["ok"]),
        "primary_selects_per_request": lambda w: (
            w["primary_selects"] / max(1, w["search"]["ok"] + w["booking"]["ok"])
        ),
        "primary_cpu_share": lambda w: w["primary_cpu_s"] / w["booking"]["elapsed_s"],
        "replica_cpu_share": lambda w: w["replica_cpu_s"] / w["booking"]["elapsed_s"],
    }
    modes = [mode for mode in MODES if any(window["mode"] == mode for window in windows)]
    return {mode: {name: median(mode, figure) for name, figure in figures.items()} for mode in modes}


def markdown_report(result: dict[str, Any]) -> str:
    summary, windows = result["summary"], result["windows"]
    config = result["config"]
    lines = [
        f"# Search on a replica while booking on the primary ({result['name']})",
        "",
        f"{config['runs']} run(s) of a {config['duration']:.1f} s window, production server"
        f" ({result['server']}, {STRATEGY}), {config['search_clients']} uncached-search clients and"
        f" {config['booking_clients']} booking clients (250 flights) at the same time; primary and replica"
        f" are mariadbd processes of the bench's own on the same {result['machine']['cpus']} cores."
        f" Medians of the runs; started {result['started_at'][:16]} UTC.",
        "",
        "| mode | search/s | search p99 | bookings/s | booking p99 | replica SELECTs per search"
        " | primary SELECTs per request | primary mariadbd CPU | replica mariadbd CPU |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for mode, row in summary.items():
        lines.append(
            f"| {mode} | {row['search_per_s']:.0f} | {row['search_p99_ms']:.1f} ms"
            f" | {row['bookings_per_s']:.0f} | {row['booking_p99_ms']:.1f} ms"
            f" | {row['replica_selects_per_search']:.2f}"
            f" | {row['primary_selects_per_request']:.2f} | {row['primary_cpu_share']:.0%} of a core"
            f" | {row['replica_cpu_share']:.0%} of a core |"
        )
    lines += [
        "",
        "## Every window",
        "",
        "| run | mode | search/s | bookings/s | replica Com_select | primary Com_select"
        " | bookings checked | checks |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for window in windows:
        lines.append(
            f"| {window['run']} | {window['mode']} | {window['search']['ok_per_s']:.0f}"
            f" | {window['booking']['ok_per_s']:.0f} | {window['replica_selects']}"
            f" | {window['primary_selects']}"
            f" | {window['inventory']['bookings_in_db']} (oversold {window['inventory']['oversold']})"
            f" | {'; '.join(window['checks']) or 'ok'} |"
        )
    lines += ["", f"Checks: {'all passed' if result['ok'] else 'FAILED'}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    env = environ.Env()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default=env("BENCH_NAME", default=""))
    quick = env.bool("BENCH_QUICK", default=False)  # make bench BENCH_QUICK=1: one short run
    parser.add_argument("--runs", type=int, default=env.int("BENCH_RUNS", default=1 if quick else 3))
    parser.add_argument(
        "--duration", type=float, default=env.float("BENCH_DURATION", default=1.5 if quick else 3.0)
    )
    parser.add_argument("--search-clients", type=int, default=env.int("BENCH_SEARCH_CLIENTS", default=16))
    parser.add_argument("--booking-clients", type=int, default=env.int("BENCH_BOOKING_CLIENTS", default=16))
    args, rest = parser.parse_known_args(argv)
    name = args.name or f"replica-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    config = replace(Config.from_environment(rest), name=name)
    started = datetime.now(UTC)
    with (
        terminate_as_exit(),
        prepared(config, replica=True, users=args.search_clients + args.booking_clients) as prep,
    ):
        bench = ReplicaBench(
            prep,
            runs=args.runs,
            duration=args.duration,
            search_clients=args.search_clients,
            booking_clients=args.booking_clients,
        )
        bench.execute()
    result = {
        "name": name,
        "started_at": started.isoformat(),
        "elapsed_s": (datetime.now(UTC) - started).total_seconds(),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "server": ServerSpec.production().label,
        "config": {
            "runs": args.runs,
            "duration": args.duration,
            "search_clients": args.search_clients,
            "booking_clients": args.booking_clients,
        },
        "summary": summarise(bench.windows),
        "windows": bench.windows,
        "ok": all(not window["checks"] for window in bench.windows),
    }
    report = markdown_report(result)
    results_dir = Path(os.environ.get("BENCH_RESULTS_DIR", RESULTS_DIR))
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (results_dir / f"{name}.md").write_text(report)
    sys.stdout.write(report)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
