"""The throughput load generator: wrk (C, Debian's package) with the Lua scripts in bench/wrk/.

A Python client at 1,000+ requests/s takes a large share of a 2-core machine from the server it
measures; wrk takes a small one (both are measured and reported, docs/BENCHMARK.md). `run_wrk`
starts wrk with one connection per thread (so each connection is a closed-loop client with its own
token, see bench/wrk/lib.lua), reads wrk's CPU time once every thread has started and again once
every thread reports it has drained (its last request answered, past the deadline or at a stop
code), interrupts wrk's fixed-length sleep, and adds up the per-thread results its done() prints. The result
has the same keys as bench.load's.
"""

import ctypes
import json
import math
import os
import selectors
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench.cpu import cpu_seconds, machine_share
from bench.load import percentile

WRK = "wrk"
SCRIPTS_DIR = Path(__file__).resolve().parent / "wrk"
STARTED = "BENCH-STARTED "
DRAINED = "BENCH-DRAINED "
THREAD = "BENCH-THREAD "
ERRORS = "BENCH-ERRORS "
# wrk's -d is whole seconds and only an upper bound: threads stop themselves at `duration`, and
# wrk is interrupted once they all have. A request slower than this grace is left unanswered.
GRACE_SECONDS = 30
_libc = ctypes.CDLL(None, use_errno=True)


def _interrupt_main_thread(pid: int) -> None:
    """SIGINT to wrk's main thread, which sleeps for -d and has the handler that ends the sleep early
    (wrk.c): a signal sent to the process could be taken by a worker thread on its way out, and the
    sleep would go on. A wrk that has already exited is not an error: it is reaped next."""
    _libc.tgkill(pid, pid, signal.SIGINT)


def run_wrk(
    script: str,
    base_url: str,
    *,
    concurrency: int,
    duration: float,
    tokens: list[str] | None = None,
    flight_ids: list[int] | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One wrk run of bench/wrk/<script>.lua: `concurrency` connections for `duration` seconds."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        args = {"duration": f"{duration:.3f}", "key_prefix": uuid.uuid4().hex[:12], **(params or {})}
        if tokens:
            (Path(folder) / "tokens").write_text("\n".join(tokens) + "\n")
            args["tokens"] = str(Path(folder) / "tokens")
        if flight_ids:
            (Path(folder) / "flights").write_text("\n".join(str(i) for i in flight_ids) + "\n")
            args["flights"] = str(Path(folder) / "flights")
        command = [
            WRK,
            f"--threads={concurrency}",
            f"--connections={concurrency}",
            f"--duration={math.ceil(duration) + GRACE_SECONDS}s",
            f"--timeout={GRACE_SECONDS}s",
            f"--script={SCRIPTS_DIR / script}.lua",
            base_url,
            "--",
            *(f"{key}={value}" for key, value in args.items()),
        ]
        return _drive(command, script, concurrency, duration)


def _drive(command: list[str], script: str, concurrency: int, duration: float) -> dict[str, Any]:
    """Run wrk; its CPU is counted from the moment every thread has sent its first request (leaving
    out start-up: one Lua state per thread) to the moment every thread has drained."""
    spawned = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        output, started, drained = b"", 0, 0
        window_start, cpu_start = spawned, None
        deadline = spawned + math.ceil(duration) + GRACE_SECONDS + 10
        with selectors.DefaultSelector() as selector:
            # Raw reads: a buffered readline could hold lines the selector no longer reports.
            selector.register(process.stdout, selectors.EVENT_READ)
            while drained < concurrency and time.perf_counter() < deadline:
                if not selector.select(timeout=deadline - time.perf_counter()):
                    continue
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break  # wrk exited (its -d ran out, or it failed)
                output += chunk
                started, drained = output.count(STARTED.encode()), output.count(DRAINED.encode())
                if cpu_start is None and started == concurrency:
                    window_start, cpu_start = time.perf_counter(), cpu_seconds(process.pid)
        alive = process.poll() is None
        cpu_s = cpu_seconds(process.pid) - cpu_start if alive and cpu_start is not None else None
        wall_s = time.perf_counter() - window_start
        if alive and drained == concurrency:
            _interrupt_main_thread(process.pid)
        out, err = process.communicate(timeout=GRACE_SECONDS + 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines = (output + out).decode(errors="replace").splitlines()
    threads = [json.loads(line[len(THREAD) :]) for line in lines if line.startswith(THREAD)]
    errors = next((json.loads(line[len(ERRORS) :]) for line in lines if line.startswith(ERRORS)), None)
    if process.returncode != 0 or errors is None or len(threads) != concurrency:
        text = err.decode(errors="replace")[-2000:] + "\n".join(lines)[-2000:]
        raise RuntimeError(f"wrk {script} failed ({process.returncode}): {text}")
    return _result(script, concurrency, threads, errors, drained, cpu_s, wall_s)


def _merge(threads: list[dict[str, Any] | None]) -> dict[str, Any]:
    """Add up the threads' results (None: a thread that never drained, whose numbers are lost)."""
    merged: dict[str, Any] = {"answers": 0, "unanswered": 0, "in_flight": 0, "closed": 0, "lost_threads": 0}
    counters: dict[str, Counter] = {"statuses": Counter(), "codes": Counter(), "cache": Counter()}
    latencies: list[float] = []
    first, last = [], []
    for thread in threads:
        if thread is None:
            merged["lost_threads"] += 1
            continue
        merged["answers"] += thread["answers"]
        merged["unanswered"] += thread["unanswered"]
        merged["in_flight"] += thread["pending"]
        merged["closed"] += thread["closed"]
        for name, counter in counters.items():
            counter.update(thread[name] or {})  # Lua writes an empty table as {}
        latencies += thread["latencies_ms"] or []
        if thread["requests"]:
            first.append(thread["first_at"])
        if thread["answers"]:
            last.append(thread["last_at"])
    merged.update({name: dict(counter) for name, counter in counters.items()})
    merged["latencies_ms"] = sorted(latencies)
    merged["elapsed_s"] = (max(last) - min(first)) / 1e6 if first and last else 0.0
    return merged


def _result(
    script: str,
    concurrency: int,
    threads: list[dict[str, Any] | None],
    errors: dict[str, int],
    drained: int,
    cpu_s: float | None,
    wall_s: float,
) -> dict[str, Any]:
    summary = _merge(threads)
    latencies = summary["latencies_ms"]
    statuses = dict(sorted(summary["statuses"].items()))
    ok = sum(count for status, count in statuses.items() if 200 <= int(status) < 300)
    elapsed = summary["elapsed_s"]
    return {
        "mode": script,
        "client": "wrk",
        "concurrency": concurrency,
        "elapsed_s": elapsed,
        "requests": summary["answers"],
        "ok": ok,
        "ok_per_s": ok / elapsed if elapsed else 0.0,
        "requests_per_s": summary["answers"] / elapsed if elapsed else 0.0,
        "p50_ms": percentile(latencies, 0.50),
        "p95_ms": percentile(latencies, 0.95),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": latencies[-1] if latencies else None,
        "statuses": statuses,
        "codes": dict(sorted(summary["codes"].items())),
        "cache": summary["cache"],
        # requests with no answer: lost to a socket error, or still in flight when wrk stopped
        "transport_errors": summary["unanswered"] + summary["in_flight"],
        "in_flight_at_stop": summary["in_flight"],
        "drained": drained == concurrency and not summary["lost_threads"],
        "closed_by_server": summary["closed"],
        "socket_errors": {key: (errors or {}).get(key, 0) for key in ("connect", "read", "write", "timeout")},
        "client_cpu_s": cpu_s,
        "client_wall_s": wall_s,
        "client_cpu_share": machine_share(cpu_s, wall_s) if cpu_s is not None else None,
    }
