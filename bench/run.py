"""`make bench`: Airline under load through gunicorn and real HTTP, with the invariants checked after.

One invocation: (re)create the bench database and migrate it, prepare users, tokens and flights,
then for each of BENCH_RUNS repetitions start gunicorn once per booking strategy and measure, from a
separate load-generator process (bench.load), at each concurrency:
- GET /api/v1/auth/me (the cheapest authenticated request), cached and uncached search, bookings
  spread over 200 flights and the payment storm (with the first strategy's server);
- the hot flight sold out by every client at once (with each strategy's server);
and, with no server running, the database ceiling (bench.ceiling). Medians of the repetitions go to
bench/results/<name>.json and a Markdown table (printed and written beside it). The exit status is 1
if any invariant failed (oversell, inventory drift, a 201 without its booking, a second charge).

Every setting comes from the environment (or the matching --option): see `Config.from_environment`.
"""

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import environ

from bench.report import markdown_report, summarise
from bench.server import Gunicorn

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
LOG_DIR = BASE_DIR / "var" / "bench"
BENCH_SECRET_KEY = "bench-only-secret-key-never-used-in-production-0123456789abcdefghijklmnop"
STRATEGY_CEILING = {"pessimistic": "for_update", "optimistic": "conditional"}
SPREAD_FLIGHTS = 200
SPREAD_SEATS = 180
MAX_HOT_SEATS = 1500  # 150 rows (the layout maximum) of 10 seats
CEILING_SECONDS = 2.0  # bare SQL is steady within a second or two


@dataclass(frozen=True)
class Config:
    name: str
    runs: int = 3
    concurrency: tuple[int, ...] = (1, 8, 32, 64)
    duration: float = 2.0  # seconds per time-bounded measurement (3 runs stay under 10 minutes)
    warmup: float = 1.0
    hot_seats: int = 1200  # the largest hot flight (it is sized to sell out in about `duration`)
    hot_timeout: float = 30.0  # a hot-flight sell-out that takes longer stops unfinished
    storm_bookings: int = 4  # bookings paid in bursts, per concurrency and per kind of storm
    strategies: tuple[str, ...] = ("pessimistic", "optimistic")
    workers: int = 3
    threads: int = 4
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
        """Defaults ← BENCH_* variables ← command-line options. BENCH_QUICK=1 is the ~1-minute smoke."""
        env = environ.Env()
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--name", default=env("BENCH_NAME", default=""))
        parser.add_argument("--quick", action="store_true", default=env.bool("BENCH_QUICK", default=False))
        parser.add_argument("--runs", type=int, default=env.int("BENCH_RUNS", default=None))
        parser.add_argument("--concurrency", default=env("BENCH_CONCURRENCY", default=""))
        parser.add_argument("--duration", type=float, default=env.float("BENCH_DURATION", default=None))
        parser.add_argument("--hot-seats", type=int, default=env.int("BENCH_HOT_SEATS", default=None))
        parser.add_argument("--strategies", default=env("BENCH_STRATEGIES", default=""))
        parser.add_argument("--workers", type=int, default=env.int("BENCH_WORKERS", default=cls.workers))
        parser.add_argument("--threads", type=int, default=env.int("BENCH_THREADS", default=cls.threads))
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
        quick = {"runs": 1, "concurrency": (1, 32), "duration": 1.5, "hot_seats": 300, "storm_bookings": 2}
        config = cls(
            name=args.name or f"{'quick' if args.quick else 'bench'}-{datetime.now(UTC):%Y%m%d-%H%M%S}",
            workers=args.workers,
            threads=args.threads,
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

    def hot_seats_for(self, concurrency: int, bookings_per_second: float | None) -> int:
        """Seats of the hot flight, a multiple of 10: about `duration` seconds of selling at the rate
        the spread scenario just measured (an upper bound of the hot rate), so a slow or busy machine
        still sells out in bounded time; 150 per client if no rate is known."""
        estimate = bookings_per_second * self.duration if bookings_per_second else 150 * concurrency
        seats = int(min(self.hot_seats, estimate, MAX_HOT_SEATS))
        return max(20, seats - seats % 10)

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


class Bench:
    """One invocation: repetitions of the scenarios; measurements accumulate in `self.measurements`."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.measurements: list[dict[str, Any]] = []
        self.query_salt = 0
        self.spread_rates: dict[tuple[int, int], float] = {}

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
        self.users = data.users_make(max(self.config.concurrency))
        self.warmup_flight = data.flights_make(self.catalogue.airports, count=1, seats=MAX_HOT_SEATS)

    def http(self, server: Gunicorn, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        """One load-generator run; also the server's database connections before and after it.

        With persistent connections (CONN_MAX_AGE) the idle server keeps about one connection per
        thread open, and a measurement replaces at most each once (when it reaches CONN_MAX_AGE);
        with a connection per request the idle server would hold none.
        """
        database = database_params(self.config.database_url)["name"]
        before = server_connections(database)
        result = run_subprocess_job("bench.load", {"base_url": server.base_url, **job}, timeout)
        after = server_connections(database)
        result["db_connections"] = {"open_after": len(after), "replaced": len(after - before)}
        return result

    def record(self, run: int, scenario: str, variant: str, result: dict[str, Any], **extra: Any) -> None:
        measurement = {"run": run, "scenario": scenario, "variant": variant, **result, **extra}
        self.measurements.append(measurement)
        check = extra.get("check")
        failed = " INVARIANT FAILED" if check is not None and not check["ok"] else ""
        self.log(
            f"run {run} {scenario}/{variant} c={result['concurrency']}: {result['ok_per_s']:.0f}/s"
            + (f" p99 {result['p99_ms']:.1f} ms" if result.get("p99_ms") is not None else "")
            + failed
        )

    def run_once(self, run: int) -> None:
        from bench import data

        config, duration = self.config, self.config.duration
        tokens = data.access_tokens(self.users)
        spread_ids = data.flights_make(self.catalogue.airports, count=SPREAD_FLIGHTS, seats=SPREAD_SEATS)
        storm_count = config.storm_bookings * len(config.concurrency) * 2
        storm_seats = storm_count + 10 - storm_count % 10
        storm_flight = data.flights_make(self.catalogue.airports, count=1, seats=storm_seats)
        storm = data.payable_bookings(self.users, tokens, storm_flight * storm_count)
        for index, strategy in enumerate(config.strategies):
            log_path = LOG_DIR / f"{config.name}-{run}-{strategy}.log"
            with Gunicorn(
                env=config.server_env(strategy),
                workers=config.workers,
                threads=config.threads,
                log_path=log_path,
            ) as server:
                self.warm(server, tokens)
                if index == 0:
                    self.run_common(server, run, strategy, tokens, spread_ids, storm)
                for concurrency in config.concurrency:
                    seats = config.hot_seats_for(concurrency, self.spread_rates.get((run, concurrency)))
                    flight_ids = data.flights_make(self.catalogue.airports, count=1, seats=seats)
                    job = {
                        "mode": "hot",
                        "concurrency": concurrency,
                        "duration": config.hot_timeout,
                        "tokens": tokens,
                        "flight_ids": flight_ids,
                    }
                    result = self.http(server, job, config.hot_timeout + 60)
                    check = data.inventory_check(
                        flight_ids, bookings_answered=result["statuses"].get("201", 0)
                    )
                    self.record(run, "hot", strategy, result, seats=seats, check=check)
        for strategy in config.strategies:
            form = STRATEGY_CEILING[strategy]
            for concurrency in config.concurrency:
                job = {
                    "database": database_params(config.database_url),
                    "form": form,
                    "concurrency": concurrency,
                    "duration": min(duration, CEILING_SECONDS),
                }
                self.record(run, "ceiling", form, run_subprocess_job("bench.ceiling", job, duration + 60))

    def warm(self, server: Gunicorn, tokens: list[str]) -> None:
        """Load every worker and thread once (imports, DB connections) before measuring."""
        concurrency = max(self.config.concurrency)
        for mode in ("me", "spread"):
            job = {
                "mode": mode,
                "concurrency": concurrency,
                "duration": self.config.warmup,
                "tokens": tokens,
                "flight_ids": self.warmup_flight,
            }
            self.http(server, job, self.config.warmup + 60)

    def run_common(
        self,
        server: Gunicorn,
        run: int,
        strategy: str,
        tokens: list[str],
        spread_ids: list[int],
        storm: list[dict[str, str]],
    ) -> None:
        """The scenarios run once per repetition (with the first strategy's server)."""
        from bench import data

        config, duration, timeout = self.config, self.config.duration, self.config.duration + 60
        for concurrency in config.concurrency:
            job = {"mode": "me", "concurrency": concurrency, "duration": duration, "tokens": tokens}
            self.record(run, "me", "-", self.http(server, job, timeout))
        query = self.catalogue.search_query
        self.http(server, {"mode": "search", "concurrency": 1, "duration": 0.2, "query": query}, timeout)
        for concurrency in config.concurrency:
            job = {"mode": "search", "concurrency": concurrency, "duration": duration, "query": query}
            self.record(run, "search_hit", "-", self.http(server, job, timeout))
        for concurrency in config.concurrency:
            self.query_salt += 1
            job = {
                "mode": "search",
                "concurrency": concurrency,
                "duration": duration,
                "query": query,
                "unique_price_max": 100_000 + self.query_salt * 1_000_000,
            }
            self.record(run, "search_miss", "-", self.http(server, job, timeout))
        answered = 0
        for concurrency in config.concurrency:
            job = {
                "mode": "spread",
                "concurrency": concurrency,
                "duration": duration,
                "tokens": tokens,
                "flight_ids": spread_ids,
            }
            result = self.http(server, job, timeout)
            answered += result["statuses"].get("201", 0)
            self.spread_rates[(run, concurrency)] = result["ok_per_s"]
            check = data.inventory_check(spread_ids, bookings_answered=answered)
            self.record(run, "spread", strategy, result, check=check)
        remaining = list(storm)
        for concurrency in config.concurrency:
            for mode in ("pay_same", "pay_diff"):
                bookings, remaining = remaining[: config.storm_bookings], remaining[config.storm_bookings :]
                job = {"mode": mode, "concurrency": concurrency, "bookings": bookings}
                result = self.http(server, job, timeout)
                check = data.charges_check([booking["reference"] for booking in bookings])
                self.record(run, mode, "-", result, check=check)

    def execute(self) -> dict[str, Any]:
        started = datetime.now(UTC)
        self.prepare()
        for run in range(1, self.config.runs + 1):
            self.run_once(run)
        return {
            "name": self.config.name,
            "started_at": started.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "elapsed_s": (datetime.now(UTC) - started).total_seconds(),
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "config": {key: value for key, value in asdict(self.config).items() if key != "results_dir"}
            | {"results_dir": str(self.config.results_dir)},
            "summary": summarise(self.measurements, self.config.workers * self.config.threads),
            "measurements": self.measurements,
        }


@contextlib.contextmanager
def terminate_as_exit() -> Iterator[None]:
    """SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C, so gunicorn is always stopped."""

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
    """Write <results_dir>/<name>.json and .md; returns the Markdown."""
    config.results_dir.mkdir(parents=True, exist_ok=True)
    report = markdown_report(result)
    (config.results_dir / f"{config.name}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (config.results_dir / f"{config.name}.md").write_text(report)
    return report


if __name__ == "__main__":
    sys.exit(main())
