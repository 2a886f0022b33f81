"""The Python load generator: a bounded, closed-loop async HTTP client, run as its own process.

The throughput scenarios are driven by wrk (bench/wrk_load.py), which takes far less of the machine
at 1,000+ requests/s; this client stays for what needs each answer checked (the payment storms) and
for the comparison of the two clients' CPU shares in every run.

`python -m bench.load` reads one job (JSON) on stdin and writes its result (JSON) on stdout. It
imports nothing from Django, so the server's CPU and this process's are accounted separately and
the load crosses real loopback sockets. Closed loop: each of `concurrency` clients sends its next
request only when the previous answer has arrived, so the load adapts to the server instead of
piling up. Every loop is bounded by `duration` (and hot-flight clients also stop at their first
`409 sold_out`), so a job always ends by itself.

Job modes:
- "hot" / "spread": POST /api/v1/bookings, one passenger, seat assigned by the server, on
  `flight_ids[0]` / a random one of `flight_ids`; a fresh Idempotency-Key per request.
- "search": GET /api/v1/flights with `query`; with `unique_price_max` set, each request's price
  maximum is a number never sent before (above every fare, so the answer is the same flights, but
  the cache key is new: the cache-miss run).
- "me": GET /api/v1/auth/me.
- "pay_same" / "pay_diff": for each booking of `bookings`, `concurrency` simultaneous POST
  /api/v1/payments for it with one shared / each its own Idempotency-Key (the payment storm).
"""

import asyncio
import json
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.cpu import cpu_seconds, machine_share

SOLD_OUT = "sold_out"


@dataclass
class Samples:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    codes: Counter = field(default_factory=Counter)  # problem+json `code` of 4xx/5xx answers
    cache: Counter = field(default_factory=Counter)  # X-Cache: hit | miss
    transport_errors: int = 0

    def record(self, started: float, status: int, code: str | None = None, cache: str | None = None) -> None:
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        self.statuses[status] += 1
        if code:
            self.codes[code] += 1
        if cache:
            self.cache[cache] += 1


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an ascending list (None if empty)."""
    if not sorted_values:
        return None
    rank = max(1, min(len(sorted_values), round(fraction * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


async def _send(
    session: aiohttp.ClientSession, samples: Samples, method: str, url: str, **kwargs: Any
) -> tuple[int, str | None]:
    """One request; returns (status, problem code). A transport failure counts as status 0."""
    started = time.perf_counter()
    try:
        async with session.request(method, url, **kwargs) as response:
            body = await response.read()
            code = None
            if response.status >= 400 and body:
                try:
                    code = json.loads(body).get("code")
                except ValueError:
                    code = None
            samples.record(started, response.status, code, response.headers.get("X-Cache"))
            return response.status, code
    except (TimeoutError, aiohttp.ClientError):
        samples.transport_errors += 1
        samples.record(started, 0)
        return 0, None


def _auth(token: str, idempotency_key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return headers


async def _client_loop(
    job: dict[str, Any], index: int, session: aiohttp.ClientSession, samples: Samples, deadline: float
) -> None:
    base, mode = job["base_url"], job["mode"]
    tokens = job.get("tokens") or [""]
    token = tokens[index % len(tokens)]
    rng = random.Random(index)
    sequence = 0
    while time.perf_counter() < deadline:
        sequence += 1
        if mode in ("hot", "spread"):
            flight_id = job["flight_ids"][0] if mode == "hot" else rng.choice(job["flight_ids"])
            body = {"flight_id": flight_id, "passengers": [{"first_name": "Bench", "last_name": f"C{index}"}]}
            status, code = await _send(
                session,
                samples,
                "POST",
                f"{base}/api/v1/bookings",
                json=body,
                headers=_auth(token, uuid.uuid4().hex),
            )
            if mode == "hot" and status == 409 and code == SOLD_OUT:
                return
        elif mode == "search":
            query = dict(job["query"])
            if job.get("unique_price_max"):
                low = query["price"].split("-")[0]
                query["price"] = f"{low}-{job['unique_price_max'] + index * 10_000 + sequence}"
            await _send(session, samples, "GET", f"{base}/api/v1/flights", params=query)
        elif mode == "me":
            await _send(session, samples, "GET", f"{base}/api/v1/auth/me", headers=_auth(token))
        else:
            raise ValueError(f"unknown mode {mode!r}")


async def _payment_storm(job: dict[str, Any], session: aiohttp.ClientSession, samples: Samples) -> None:
    """Burst after burst: `concurrency` simultaneous payments of one booking, booking by booking."""
    base, concurrency = job["base_url"], job["concurrency"]
    for booking in job["bookings"]:
        body = {
            "booking_reference": booking["reference"],
            "amount": booking["amount"],
            "currency": booking["currency"],
            "payment_method": "tok_visa",
        }
        shared_key = uuid.uuid4().hex
        keys = [shared_key if job["mode"] == "pay_same" else uuid.uuid4().hex for _ in range(concurrency)]
        await asyncio.gather(
            *(
                _send(
                    session,
                    samples,
                    "POST",
                    f"{base}/api/v1/payments",
                    json=body,
                    headers=_auth(booking["token"], key),
                )
                for key in keys
            )
        )


async def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Run one job and summarise it: throughput, latency percentiles, status and error counts."""
    concurrency = job["concurrency"]
    samples = Samples()
    timeout = aiohttp.ClientTimeout(total=job.get("request_timeout", 30))
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started, cpu_started = time.perf_counter(), cpu_seconds()
        if job["mode"] in ("pay_same", "pay_diff"):
            await _payment_storm(job, session, samples)
        else:
            deadline = started + job["duration"]
            await asyncio.gather(
                *(_client_loop(job, index, session, samples, deadline) for index in range(concurrency))
            )
        elapsed = time.perf_counter() - started
        cpu_s = cpu_seconds() - cpu_started
    latencies = sorted(samples.latencies_ms)
    ok = sum(count for status, count in samples.statuses.items() if 200 <= status < 300)
    return {
        "mode": job["mode"],
        "client": "python",
        "concurrency": concurrency,
        "elapsed_s": elapsed,
        "requests": len(latencies),
        "ok": ok,
        "ok_per_s": ok / elapsed if elapsed else 0.0,
        "requests_per_s": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": latencies[-1] if latencies else None,
        "statuses": {str(status): count for status, count in sorted(samples.statuses.items())},
        "codes": dict(sorted(samples.codes.items())),
        "cache": dict(samples.cache),
        "transport_errors": samples.transport_errors,
        # this process's own CPU over the measurement (not its start-up): its share of the machine
        "client_cpu_s": cpu_s,
        "client_wall_s": elapsed,
        "client_cpu_share": machine_share(cpu_s, elapsed),
    }


def main() -> None:
    job = json.load(sys.stdin)
    json.dump(asyncio.run(run_job(job)), sys.stdout)


if __name__ == "__main__":
    main()
