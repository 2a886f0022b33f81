"""Where the time of one booking request goes: `python -m bench.profile` (docs/PROFILE.md).

Runs POST /api/v1/bookings through Django's whole WSGI stack in this process (middleware, JWT
authentication, rate limit, the hold with its idempotency key and outbox row in one transaction,
the answer, rendering), one request at a time under cProfile, on the bench database with the bench's settings
(production, DEBUG off). Every SQL statement is timed as well. Prints a Markdown table of the
mean milliseconds per request spent in each part (parts nest: the indented ones are inside the one
above), the SQL count and time, and the top functions by own time.

Options: --requests N (default 400), --seats S (the flight's size, default 1,200),
--strategy pessimistic|optimistic, --reuse-database.
"""

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from bench.run import Config, database_create, django_setup, queue_delete

# (label, module path fragment, function name, depth): cumulative time of that function per request.
PARTS = [
    ("whole request (WSGI handler)", "django/core/handlers/wsgi.py", "__call__", 0),
    ("DRF view dispatch", "rest_framework/views.py", "dispatch", 1),
    (
        "JWT authentication (incl. user query)",
        "rest_framework_simplejwt/authentication.py",
        "authenticate",
        2,
    ),
    ("rate limit (one Redis round trip)", "apps/core/ratelimit.py", "rate_limit_check", 2),
    ("check the body (hold_input)", "apps/bookings/api/inputs.py", "hold_input", 2),
    ("booking_hold_create", "apps/bookings/services/holds.py", "booking_hold_create", 2),
    (
        "validate, read the flight (and its layout, once)",
        "apps/bookings/services/holds.py",
        "_hold_request_build",
        3,
    ),
    ("lock the flight row (SELECT … FOR UPDATE)", "apps/flights/locks.py", "flight_lock_for_hold", 3),
    ("choose seats", "apps/bookings/services/seat_selection.py", "seats_choose", 3),
    ("insert booking, passengers, seats, audit row", "apps/bookings/services/holds.py", "_booking_insert", 3),
    ("audit row", "apps/core/audit.py", "audit_record", 4),
    ("move the inventory (UPDATE flight)", "apps/flights/services/seats.py", "flight_seats_take", 3),
    ("outbox row (booking_held subscriber)", "apps/notifications/subscribers.py", "on_booking_held", 3),
    ("the answer, built from memory", "apps/bookings/api/serializers.py", "booking_body", 3),
    ("idempotency key recorded", "apps/core/idempotency.py", "record", 3),
    ("COMMIT", "django/db/transaction.py", "__exit__", 3),
    ("render JSON", "rest_framework/response.py", "rendered_content", 1),
]


UNPROFILED_REQUESTS = 100


def _wsgi_environ(body: bytes, token: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/bookings",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex,
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


class SqlTimer:
    def __init__(self) -> None:
        self.count, self.seconds = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def profile(requests: int, seats: int) -> str:
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    from bench import data

    catalogue = data.catalogue_prepare(datetime.now(UTC))
    user = data.users_make(1)
    token = data.access_tokens(user)[0]
    flight_ids = data.flights_make(catalogue.airports, count=1, seats=seats)
    if seats < requests + UNPROFILED_REQUESTS + 20:
        raise SystemExit(f"--seats must be at least {requests + UNPROFILED_REQUESTS + 20}")
    handler = WSGIHandler()
    body = json.dumps(
        {"flight_id": flight_ids[0], "passengers": [{"first_name": "Pro", "last_name": "File"}]}
    )

    def call() -> int:
        statuses: list[str] = []
        result = handler(_wsgi_environ(body.encode(), token), lambda status, headers: statuses.append(status))
        b"".join(result)
        result.close()
        return int(statuses[0].split()[0])

    for _ in range(20):  # warm: imports, connections, template and URL caches
        assert call() == 201
    started = time.perf_counter()
    for _ in range(UNPROFILED_REQUESTS):
        call()
    unprofiled = (time.perf_counter() - started) / UNPROFILED_REQUESTS
    sql = SqlTimer()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    with connection.execute_wrapper(sql):
        profiler.enable()
        for _ in range(requests):
            status = call()
            if status != 201:
                raise RuntimeError(f"booking answered {status}")
        profiler.disable()
    wall = (time.perf_counter() - started) / requests
    return _report(pstats.Stats(profiler), requests, wall, unprofiled, sql, seats)


def _cumulative(stats: pstats.Stats, path: str, name: str) -> tuple[float, int]:
    """The outermost of the functions so named in that file (a subclass's method calls its base's)."""
    found = [
        (cumulative, primitive_calls)
        for (filename, _, function), (_, primitive_calls, _, cumulative, _) in stats.stats.items()
        if function == name and filename.endswith(path)
    ]
    return max(found, default=(0.0, 0))


def _report(
    stats: pstats.Stats, requests: int, wall: float, unprofiled: float, sql: SqlTimer, seats: int
) -> str:
    lines = [
        f"{requests} bookings on a {seats}-seat flight, one at a time, under cProfile "
        f"(profiling inflates Python time; the wall time without it is lower).",
        "",
        f"Wall time per request: {unprofiled * 1000:.2f} ms without the profiler "
        f"({UNPROFILED_REQUESTS} requests), {wall * 1000:.2f} ms under it; "
        f"SQL: {sql.count / requests:.1f} statements, {sql.seconds * 1000 / requests:.2f} ms per request.",
        "",
        "| part | ms per request | calls per request |",
        "|---|---|---|",
    ]
    for label, path, name, depth in PARTS:
        seconds, calls = _cumulative(stats, path, name)
        if not calls:
            continue
        indent = "&nbsp;&nbsp;" * depth
        lines.append(f"| {indent}{label} | {seconds * 1000 / requests:.2f} | {calls / requests:.1f} |")
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("tottime").print_stats(15)
    lines += ["", "Top functions by own time:", "", "```", out.getvalue().strip(), "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--seats", type=int, default=1200)
    parser.add_argument("--strategy", default="pessimistic")
    parser.add_argument("--reuse-database", action="store_true")
    args = parser.parse_args(argv)
    options = ["--strategies", args.strategy] + (["--reuse-database"] if args.reuse_database else [])
    config = Config.from_environment(options)
    if config.create_database:
        database_create(config.database_url)
    django_setup(config)
    from django.core.management import call_command

    if config.create_database:
        call_command("migrate", verbosity=0, interactive=False)
    try:
        sys.stdout.write(profile(args.requests, args.seats))
    finally:
        queue_delete(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
