"""`make bench`: Airline under load through its production server and real HTTP, invariants checked.

One invocation: (re)create the bench database and migrate it, prepare users, tokens and flights,
then for each of BENCH_RUNS repetitions start the server (gunicorn.conf.py, the production
configuration) once per booking strategy and measure at each concurrency, with wrk driving the load
(bench/wrk_load.py, Lua scripts in bench/wrk/):
- on every server: GET /api/v1/auth/me, the yardstick each figure is divided by (same run, server);
- on the first strategy's server: flight detail, seat map, cached and uncached search, the payment
  storms (the Python client, bench.load: each answer checked) and auth/me once more through the
  Python client, to show in every run what a Python load generator costs the machine;
- per strategy: booking spread over many flights (its 1-client figure is the single-booking latency)
  and booking on one hot flight sized not to sell out during the measurement;
then each BENCH_SERVERS variant (other gunicorn worker classes and counts, or granian) on the key
scenarios, and with no server running the database ceiling (bench.ceiling). Inventory and charges are
checked after every booking and payment measurement. Medians of the repetitions go to
bench/results/<name>.json, a Markdown report beside it (printed too) and a throughput chart per
scenario in bench/results/<name>/. The exit status is 1 if any invariant failed (oversell, inventory
drift, a 201 without its booking, a second charge). How to read it: docs/BENCHMARK.md.

Every setting comes from the environment (or the matching --option): see `Config.from_environment`.
"""

import argparse
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import environ

from bench.chart import charts_write
from bench.progress import Progress
from bench.report import GOAL_CLIENTS, LABELS, THROUGHPUT_SCENARIOS, markdown_report, summarise
from bench.server import Server, ServerSpec
from bench.wrk_load import run_wrk

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
LOG_DIR = BASE_DIR / "var" / "bench"
BENCH_SECRET_KEY = "bench-only-secret-key-never-used-in-production-0123456789abcdefghijklmnop"
STRATEGY_CEILING = {"pessimistic": "for_update", "optimistic": "conditional"}
SPREAD_FLIGHTS = 250
SPREAD_SEATS = 180  # an A320's cabin: the seat map scenario reads these flights too
MAX_HOT_SEATS = 1500  # 150 rows (the layout maximum) of 10 seats
# Seats for twice what the best spread rate would sell in the window: the hot rate is lower, but one
# measurement on a busy machine can be far off.
HOT_MARGIN = 2.0
MIN_HOT_WINDOW = 0.5  # seconds: a shorter window says little
UNIQUE_PRICE_BASE = 100_000  # above every fare (data.SEARCH_PRICE_RANGE)
UNIQUE_PRICE_STEP = 1_000_000  # per uncached measurement; bench/wrk/search.lua spaces threads within it
CEILING_SECONDS = 2.0  # bare SQL is steady within a second or two
STEP_OVERHEAD_S = 0.6  # a measurement's set-up and checks, for the first time estimate
SERVER_START_S = 4.0


@dataclass(frozen=True)
class Config:
    name: str
    runs: int = 3
    concurrency: tuple[int, ...] = (1, 8, 32, 64)
    duration: float = 2.0  # seconds per measurement (3 runs stay within about 10 minutes)
    warmup: float = 1.0
    hot_seats: int = MAX_HOT_SEATS  # the largest hot flight; a faster sale shortens the window instead
    storm_bookings: int = 4  # bookings paid in bursts, per concurrency and per kind of storm
    strategies: tuple[str, ...] = ("pessimistic", "optimistic")
    server: str = ""  # "" is gunicorn.conf.py as it is; else a variant (bench/server.py)
    servers: tuple[str, ...] = ()  # variants compared with it on the key scenarios
    log_level: str = "INFO"
    database_url: str = "mysql://root:@127.0.0.1:3306/airline_bench"
    redis_url: str = "redis://127.0.0.1:6379/8"
    broker_url: str = "amqp://guest:guest@127.0.0.1:5672//"
    queue: str = "airline-bench"
    create_database: bool = True
    results_dir: Path = RESULTS_DIR
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, argv: list[str] | None = None) -> "Config":
        """Defaults ← BENCH_* variables ← command-line options. BENCH_QUICK=1 is the short smoke."""
        env = environ.Env()
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--name", default=env("BENCH_NAME", default=""))
        parser.add_argument("--quick", action="store_true", default=env.bool("BENCH_QUICK", default=False))
        parser.add_argument("--runs", type=int, default=env.int("BENCH_RUNS", default=None))
        parser.add_argument("--concurrency", default=env("BENCH_CONCURRENCY", default=""))
        parser.add_argument("--duration", type=float, default=env.float("BENCH_DURATION", default=None))
        parser.add_argument("--hot-seats", type=int, default=env.int("BENCH_HOT_SEATS", default=None))
        parser.add_argument("--strategies", default=env("BENCH_STRATEGIES", default=""))
        parser.add_argument(
            "--server",
            default=env("BENCH_SERVER", default=""),
            help="the server measured on every scenario (default: gunicorn.conf.py as it is)",
        )
        parser.add_argument(
            "--servers",
            default=env("BENCH_SERVERS", default=""),
            help="variants compared on the key scenarios, e.g. gthread:2x8,sync:4,granian:3x4",
        )
        parser.add_argument("--log-level", default=env("BENCH_LOG_LEVEL", default=cls.log_level))
        parser.add_argument("--database-url", default=env("BENCH_DATABASE_URL", default=cls.database_url))
        parser.add_argument("--redis-url", default=env("BENCH_REDIS_URL", default=cls.redis_url))
        parser.add_argument("--broker-url", default=env("BENCH_BROKER_URL", default=cls.broker_url))
        parser.add_argument("--queue", default=env("BENCH_QUEUE", default=cls.queue))
        parser.add_argument(
            "--reuse-database",
            action="store_true",
            default=env.bool("BENCH_REUSE_DATABASE", default=False),
            help="use the database as it is (migrated) instead of dropping and recreating it",
        )
        args = parser.parse_args(argv)
        quick = {"runs": 1, "concurrency": (1, 32), "duration": 1.5, "storm_bookings": 2}
        config = cls(
            name=args.name or f"{'quick' if args.quick else 'bench'}-{datetime.now(UTC):%Y%m%d-%H%M%S}",
            server=args.server,
            servers=tuple(spec for spec in args.servers.split(",") if spec.strip()),
            log_level=args.log_level,
            database_url=args.database_url,
            redis_url=args.redis_url,
            broker_url=args.broker_url,
            queue=args.queue,
            create_database=not args.reuse_database,
        )
        if args.quick:
            config = replace(config, warmup=0.5, **quick)
        overrides: dict[str, Any] = {}
        if args.runs:
            overrides["runs"] = args.runs
        if args.concurrency:
            overrides["concurrency"] = tuple(int(c) for c in args.concurrency.split(","))
        if args.duration:
            overrides["duration"] = args.duration
        if args.hot_seats:
            overrides["hot_seats"] = args.hot_seats
        if args.strategies:
            overrides["strategies"] = tuple(args.strategies.split(","))
        return replace(config, **overrides)

    @property
    def spread_concurrency(self) -> tuple[int, ...]:
        """The spread scenario also runs at 1 client: the single-booking latency goal."""
        return tuple(sorted({1, *self.concurrency}))

    @property
    def goal_concurrency(self) -> int:
        return GOAL_CLIENTS if GOAL_CLIENTS in self.concurrency else max(self.concurrency)

    def hot_plan(self, bookings_per_second: float) -> tuple[int, float]:
        """(seats, window seconds) for the hot flight: enough seats not to sell out in `duration` at
        HOT_MARGIN × `bookings_per_second` (the best spread rate just measured on the same server, an
        upper bound of the hot rate). Past the layout's maximum (or `hot_seats`), the window is
        shortened instead, and the report says so."""
        cap = max(20, self.hot_seats - self.hot_seats % 10)
        needed = bookings_per_second * self.duration * HOT_MARGIN
        if needed <= cap:
            return max(20, math.ceil(needed / 10) * 10), self.duration
        return cap, max(MIN_HOT_WINDOW, min(self.duration, cap / (bookings_per_second * HOT_MARGIN)))

    def steps_per_run(self) -> int:
        """What `Bench.run_once` does, counted for the progress line (a test holds them equal)."""
        clients, spread = len(self.concurrency), len(self.spread_concurrency)
        first = 4 * clients + 1 + 2 * clients  # reads, auth/me through Python, storms
        per_strategy = 1 + clients + spread + clients + 1  # server start, auth/me, spread, hot, journey
        per_variant = 1 + clients + clients + spread + clients  # start, auth/me, flight, spread, hot
        ceiling = len(self.strategies) * clients
        return first + len(self.strategies) * per_strategy + len(self.servers) * per_variant + ceiling

    def estimate_s(self) -> float:
        """A first guess of the whole run's length, before any step has been timed."""
        starts = self.runs * (len(self.strategies) + len(self.servers))
        measurements = self.runs * self.steps_per_run() - starts
        start_s = SERVER_START_S + 2 * (self.warmup + STEP_OVERHEAD_S)  # with its two warm-up loads
        return measurements * (self.duration + STEP_OVERHEAD_S) + starts * start_s

    def server_env(self, strategy: str) -> dict[str, str]:
        """Production settings (DEBUG off, JSON logs) on the bench's own database, Redis db and queue."""
        limit = "10000000/m"  # the bench measures throughput, not the rate limits
        return {
            "DJANGO_SETTINGS_MODULE": "airline.settings.production",
            "DJANGO_SECRET_KEY": BENCH_SECRET_KEY,
            "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback, no TLS proxy in front
            "ALLOW_SIMULATED_GATEWAY": "true",  # the bench pays with the built-in test cards
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "CACHE_KEY_PREFIX": "airline-bench",
            "BOOKING_LOCK_STRATEGY": strategy,
            "LOG_LEVEL": self.log_level,
            **{f"RATELIMIT_{name}": limit for name in ("SIGNIN", "SIGNUP", "BOOKING", "PAYMENT", "SEARCH")},
            **self.extra_env,
        }


def run_subprocess_job(module: str, job: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run bench.load or bench.ceiling in its own process: job in on stdin, result out on stdout."""
    completed = subprocess.run(
        [sys.executable, "-m", module],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=BASE_DIR,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{module} failed ({completed.returncode}): {completed.stderr[-2000:]}")
    return json.loads(completed.stdout)


def database_create(database_url: str) -> None:
    """Drop and create the bench database (utf8mb4, as the test settings create theirs)."""
    import MySQLdb

    db = environ.Env.db_url_config(database_url)
    connection = MySQLdb.connect(
        host=db["HOST"] or "127.0.0.1", port=int(db["PORT"] or 3306), user=db["USER"], password=db["PASSWORD"]
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{db['NAME']}`")
        cursor.execute(f"CREATE DATABASE `{db['NAME']}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    connection.close()


def database_params(database_url: str) -> dict[str, Any]:
    db = environ.Env.db_url_config(database_url)
    return {
        "host": db["HOST"] or "127.0.0.1",
        "port": int(db["PORT"] or 3306),
        "user": db["USER"],
        "password": db["PASSWORD"],
        "name": db["NAME"],
    }


def django_setup(config: Config) -> None:
    """Configure this process as the server will be (same settings), so it can prepare and check data."""
    os.environ.update(config.server_env(config.strategies[0]))
    import django

    django.setup()


def queue_delete(config: Config) -> None:
    """Drop the bench's Celery queue: held emails queued by the bench are never sent."""
    from kombu import Connection

    with Connection(config.broker_url, connect_timeout=5) as connection:
        connection.default_channel.queue_delete(config.queue)


def server_connections(database: str) -> set[int]:
    """Ids of the connections open on the bench database, other than this process's."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM information_schema.PROCESSLIST WHERE db = %s AND id != CONNECTION_ID()",
            [database],
        )
        return {row[0] for row in cursor.fetchall()}


def _clients(count: int) -> str:
    return f"{count} client" + ("" if count == 1 else "s")


class Bench:
    """One invocation: repetitions of the scenarios; measurements accumulate in `self.measurements`."""

    def __init__(self, config: Config, write: Any = None) -> None:
        self.config = config
        self.production = ServerSpec.parse(config.server) if config.server else ServerSpec.production()
        self.variants = [ServerSpec.parse(spec) for spec in config.servers]
        self.measurements: list[dict[str, Any]] = []
        self.search_salt = 0
        self.spread_rates: dict[tuple[int, str, str], list[float]] = {}  # bookings/s of each spread run
        steps = config.runs * config.steps_per_run()
        self.progress = Progress(steps, first_guess_s=config.estimate_s() / steps, write=write)

    def log(self, message: str) -> None:
        sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
        sys.stderr.flush()

    def prepare(self) -> None:
        from django.core.cache import cache
        from django.core.management import call_command

        from bench import data

        if self.config.create_database:
            call_command("migrate", verbosity=0, interactive=False)
        cache.clear()
        queue_delete(self.config)
        self.catalogue = data.catalogue_prepare(datetime.now(UTC))
        self.users = data.users_make(max(self.config.spread_concurrency))
        servers = ", ".join(spec.label for spec in [self.production, *self.variants])
        self.progress.restart()
        self.log(
            f"{self.config.runs} run(s) of {self.config.steps_per_run()} steps ({servers}); "
            f"about {self.progress.estimate_left_s() / 60:.0f} min"
        )

    def measure(
        self,
        label: str,
        run: int,
        scenario: str,
        server: Server,
        strategy: str,
        action: Any,
        **extra: Any,
    ) -> dict[str, Any]:
        """One measurement: announce it, run `action()` (a load generator), note the server's
        database connections before and after, record the result with `extra` (e.g. its check).

        With persistent connections (CONN_MAX_AGE) the idle server keeps about one connection per
        thread open, and a measurement replaces at most each once (when it reaches CONN_MAX_AGE);
        with a connection per request the idle server would hold none.
        """
        self.progress.step(f"run {run}/{self.config.runs} · {server.spec.label} {strategy} · {label}")
        database = database_params(self.config.database_url)["name"]
        before = server_connections(database)
        result = action()
        after = server_connections(database)
        result["db_connections"] = {
            "open_after": len(after),
            "replaced": len(after - before),
            "server_threads": server.spec.threads_total,
        }
        return self.record(run, scenario, strategy, result, server=server.spec.label, **extra)

    def record(self, run: int, scenario: str, strategy: str, result: dict[str, Any], **extra: Any) -> dict:
        measurement = {"run": run, "scenario": scenario, "strategy": strategy, **result, **extra}
        self.measurements.append(measurement)
        check = measurement.get("check")
        failed = " INVARIANT FAILED" if check is not None and not check["ok"] else ""
        cpu = measurement.get("client_cpu_share")
        self.log(
            f"  {scenario} c={result['concurrency']}: {result['ok_per_s']:.0f}/s"
            + (f", p99 {result['p99_ms']:.1f} ms" if result.get("p99_ms") is not None else "")
            + (f", client CPU {cpu:.0%} of the machine" if cpu is not None else "")
            + failed
        )
        return measurement

    def wrk(self, server: Server, script: str, concurrency: int, **options: Any) -> Any:
        return lambda: run_wrk(script, server.base_url, concurrency=concurrency, **options)

    def python(self, server: Server, job: dict[str, Any], timeout: float) -> Any:
        return lambda: run_subprocess_job("bench.load", {"base_url": server.base_url, **job}, timeout)

    @contextlib.contextmanager
    def server(self, spec: ServerSpec, strategy: str, run: int) -> Iterator[Server]:
        from bench import data

        self.progress.step(f"run {run}/{self.config.runs} · start {spec.label} ({strategy})")
        log_path = (
            LOG_DIR / f"{self.config.name}-{run}-{spec.label.split()[0].replace(':', '-')}-{strategy}.log"
        )
        # Fresh tokens for each server: a run with many variants can outlast ACCESS_TOKEN_LIFETIME.
        self.tokens = data.access_tokens(self.users)
        with Server(spec, env=self.config.server_env(strategy), log_path=log_path) as server:
            # Load every worker and thread once (imports, URLconf, DB connections) before measuring.
            clients, seconds = max(self.config.concurrency), self.config.warmup
            run_wrk("me", server.base_url, concurrency=clients, duration=seconds, tokens=self.tokens)
            warm_flight = data.flights_make(self.catalogue.airports, count=1, seats=MAX_HOT_SEATS)
            run_wrk(
                "booking",
                server.base_url,
                concurrency=clients,
                duration=seconds,
                tokens=self.tokens,
                flight_ids=warm_flight,
            )
            yield server

    def run_once(self, run: int) -> None:
        from bench import data

        config = self.config
        self.tokens = data.access_tokens(self.users)
        self.spread_ids = data.flights_make(self.catalogue.airports, count=SPREAD_FLIGHTS, seats=SPREAD_SEATS)
        self.spread_answered = 0  # 201s for bookings on spread_ids in this run, every server
        self.journey_ids = data.journey_flights_make(
            self.catalogue.airports, count=SPREAD_FLIGHTS // 2, seats=SPREAD_SEATS
        )
        self.journey_answered = 0
        storm_count = config.storm_bookings * len(config.concurrency) * 2
        storm_seats = storm_count + 10 - storm_count % 10
        storm_flight = data.flights_make(self.catalogue.airports, count=1, seats=storm_seats)
        storm = data.payable_bookings(self.users, self.tokens, storm_flight * storm_count)
        for index, strategy in enumerate(config.strategies):
            with self.server(self.production, strategy, run) as server:
                self.run_me(server, run, strategy)
                if index == 0:
                    self.run_reads(server, run, strategy)
                    self.run_python_client(server, run, strategy, storm)
                self.run_spread(server, run, strategy)
                self.run_hot(server, run, strategy)
                self.run_journey(server, run, strategy)
        for spec in self.variants:
            strategy = config.strategies[0]
            with self.server(spec, strategy, run) as server:
                self.run_me(server, run, strategy)
                self.run_flight(server, run, strategy)
                self.run_spread(server, run, strategy)
                self.run_hot(server, run, strategy)
        self.run_ceiling(run)

    def run_me(self, server: Server, run: int, strategy: str) -> None:
        for clients in self.config.concurrency:
            action = self.wrk(server, "me", clients, duration=self.config.duration, tokens=self.tokens)
            self.measure(f"GET auth/me, {_clients(clients)}", run, "me", server, strategy, action)

    def run_flight(self, server: Server, run: int, strategy: str) -> None:
        for clients in self.config.concurrency:
            action = self.wrk(
                server, "flight", clients, duration=self.config.duration, flight_ids=self.spread_ids
            )
            self.measure(f"flight detail, {_clients(clients)}", run, "flight", server, strategy, action)

    def run_reads(self, server: Server, run: int, strategy: str) -> None:
        config = self.config
        self.run_flight(server, run, strategy)
        for clients in config.concurrency:
            action = self.wrk(server, "seats", clients, duration=config.duration, flight_ids=self.spread_ids)
            self.measure(f"seat map, {_clients(clients)}", run, "seats", server, strategy, action)
        query = dict(self.catalogue.search_query)
        low, _, high = query.pop("price").partition("-")
        base = {"query": "&".join(f"{key}={value}" for key, value in query.items()), "price_low": low}
        # One request first, so the cached scenario measures hits from its first request on.
        with urllib.request.urlopen(f"{server.base_url}/api/v1/flights?{base['query']}&price={low}-{high}"):
            pass
        for clients in config.concurrency:
            params = {**base, "price_max": high, "unique": 0}
            action = self.wrk(server, "search", clients, duration=config.duration, params=params)
            self.measure(f"search, cached, {_clients(clients)}", run, "search_hit", server, strategy, action)
        for clients in config.concurrency:
            # A price maximum above every fare and never sent before in this invocation (the
            # cache is cleared when it starts); the search accepts at most 8 digits.
            self.search_salt += 1
            price_max = UNIQUE_PRICE_BASE + self.search_salt * UNIQUE_PRICE_STEP
            if price_max + UNIQUE_PRICE_STEP >= 10**8:
                raise RuntimeError("too many uncached search measurements for unique 8-digit prices")
            params = {**base, "price_max": price_max, "unique": 1}
            action = self.wrk(server, "search", clients, duration=config.duration, params=params)
            self.measure(
                f"search, uncached, {_clients(clients)}", run, "search_miss", server, strategy, action
            )

    def run_python_client(self, server: Server, run: int, strategy: str, storm: list[dict[str, str]]) -> None:
        """auth/me through the Python client (its CPU share beside wrk's), then the payment storms."""
        from bench import data

        config, timeout = self.config, self.config.duration + 60
        clients = config.goal_concurrency
        job = {"mode": "me", "concurrency": clients, "duration": config.duration, "tokens": self.tokens}
        label = f"GET auth/me through the Python client, {_clients(clients)}"
        self.measure(label, run, "me_python", server, strategy, self.python(server, job, timeout))
        remaining = list(storm)
        for clients in config.concurrency:
            for mode in ("pay_same", "pay_diff"):
                bookings, remaining = remaining[: config.storm_bookings], remaining[config.storm_bookings :]
                job = {"mode": mode, "concurrency": clients, "bookings": bookings}
                measurement = self.measure(
                    f"payment storm ({mode}), {_clients(clients)}",
                    run,
                    mode,
                    server,
                    strategy,
                    self.python(server, job, timeout),
                )
                measurement["check"] = data.charges_check([booking["reference"] for booking in bookings])
                self.log_check(measurement)

    def log_check(self, measurement: dict[str, Any]) -> None:
        check = measurement["check"]
        if not check["ok"]:
            self.log(f"  INVARIANT FAILED: {check}")
        elif check.get("uncounted"):
            uncounted = check["uncounted"]
            self.log(f"  {uncounted} booking(s) whose 201 a thread that never reported could not count")

    def run_spread(self, server: Server, run: int, strategy: str) -> None:
        from bench import data

        for clients in self.config.spread_concurrency:
            action = self.wrk(
                server,
                "booking",
                clients,
                duration=self.config.duration,
                tokens=self.tokens,
                flight_ids=self.spread_ids,
            )
            label = f"booking over {len(self.spread_ids)} flights, {_clients(clients)}"
            measurement = self.measure(label, run, "spread", server, strategy, action)
            self.spread_answered += measurement["statuses"].get("201", 0)
            self.spread_rates.setdefault((run, server.spec.label, strategy), []).append(
                measurement["ok_per_s"]
            )
            measurement["check"] = data.inventory_check(
                self.spread_ids, bookings_answered=self.spread_answered, all_counted=measurement["drained"]
            )
            # The spread flights' bookings add up over the measurements: after one with uncounted
            # 201s, later checks count from what the database holds.
            self.spread_answered = measurement["check"]["bookings_in_db"]
            self.log_check(measurement)

    def run_journey(self, server: Server, run: int, strategy: str) -> None:
        """Return trips (two flights in one booking) over many pairs of flights, at the most clients."""
        from bench import data

        clients = max(self.config.concurrency)
        action = self.wrk(
            server,
            "journey",
            clients,
            duration=self.config.duration,
            tokens=self.tokens,
            flight_ids=self.journey_ids,
        )
        label = (
            f"booking a return trip over {len(self.journey_ids) // 2} pairs of flights, {_clients(clients)}"
        )
        measurement = self.measure(label, run, "journey", server, strategy, action)
        self.journey_answered += measurement["statuses"].get("201", 0)
        measurement["check"] = data.inventory_check(
            self.journey_ids,
            bookings_answered=self.journey_answered,
            all_counted=measurement["drained"],
            segments=2,
        )
        self.journey_answered = measurement["check"]["bookings_in_db"]
        self.log_check(measurement)

    def run_hot(self, server: Server, run: int, strategy: str) -> None:
        from bench import data

        for clients in self.config.concurrency:
            seats, window = self.config.hot_plan(max(self.spread_rates[(run, server.spec.label, strategy)]))
            flight_ids = data.flights_make(self.catalogue.airports, count=1, seats=seats)
            action = self.wrk(
                server,
                "booking",
                clients,
                duration=window,
                tokens=self.tokens,
                flight_ids=flight_ids,
                # a client that meets a sold-out flight stops, as a buyer would
                params={"stop_on": "sold_out"},
            )
            label = f"booking on one hot flight of {seats} seats for {window:.1f} s, {_clients(clients)}"
            measurement = self.measure(
                label, run, "hot", server, strategy, action, seats=seats, window_s=window
            )
            measurement["check"] = data.inventory_check(
                flight_ids,
                bookings_answered=measurement["statuses"].get("201", 0),
                all_counted=measurement["drained"],
            )
            self.log_check(measurement)

    def run_ceiling(self, run: int) -> None:
        config = self.config
        for strategy in config.strategies:
            form = STRATEGY_CEILING[strategy]
            for clients in config.concurrency:
                self.progress.step(
                    f"run {run}/{config.runs} · database ceiling ({form}), {_clients(clients)}"
                )
                job = {
                    "database": database_params(config.database_url),
                    "form": form,
                    "concurrency": clients,
                    "duration": min(config.duration, CEILING_SECONDS),
                }
                result = run_subprocess_job("bench.ceiling", job, config.duration + 60)
                self.record(run, "ceiling", form, result, server="-")

    def execute(self) -> dict[str, Any]:
        started = datetime.now(UTC)
        self.prepare()
        for run in range(1, self.config.runs + 1):
            self.run_once(run)
        summary = summarise(self.measurements, self.production.label, self.config.goal_concurrency)
        return {
            "name": self.config.name,
            "started_at": started.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "elapsed_s": (datetime.now(UTC) - started).total_seconds(),
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "wrk": wrk_version()},
            "config": {key: value for key, value in asdict(self.config).items() if key != "results_dir"}
            | {"results_dir": str(self.config.results_dir)},
            "servers": {
                spec.label: asdict(spec) | {"production": spec is self.production}
                for spec in [self.production, *self.variants]
            },
            "steps": {"planned": self.progress.total, "done": self.progress.done},
            "summary": summary,
            "measurements": self.measurements,
        }


def wrk_version() -> str:
    completed = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return completed.stdout.split(" [")[0].strip()


@contextlib.contextmanager
def terminate_as_exit() -> Iterator[None]:
    """SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C, so the server is always stopped."""

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    config = Config.from_environment(argv)
    with terminate_as_exit():
        if config.create_database:
            database_create(config.database_url)
        django_setup(config)
        bench = Bench(config)
        try:
            result = bench.execute()
        finally:
            queue_delete(config)
    sys.stdout.write(results_write(config, result))
    sys.stderr.write(f"Results: {config.results_dir / config.name}.json and .md\n")
    return 0 if result["summary"]["invariants_ok"] else 1


def results_write(config: Config, result: dict[str, Any]) -> str:
    """Write <results_dir>/<name>.json and .md, and a chart per scenario in <results_dir>/<name>/;
    returns the Markdown."""
    config.results_dir.mkdir(parents=True, exist_ok=True)
    report = markdown_report(result)
    titles = {scenario: f"{LABELS[scenario]} ({config.name})" for scenario in THROUGHPUT_SCENARIOS}
    charts_write(config.results_dir / config.name, result["summary"]["rows"], titles)
    (config.results_dir / f"{config.name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (config.results_dir / f"{config.name}.md").write_text(report)
    return report


if __name__ == "__main__":
    sys.exit(main())
