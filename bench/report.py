"""Medians of the repetitions, ratios within each repetition, the goals, and the Markdown table."""

import statistics
from collections import Counter, defaultdict
from typing import Any

BOOKING_SCENARIOS = ("hot", "spread")
HTTP_SCENARIOS = ("me", "search_hit", "search_miss", "spread", "hot")
STORM_SCENARIOS = ("pay_same", "pay_diff")
CEILING_FOR = {"pessimistic": "for_update", "optimistic": "conditional", "-": "for_update"}
GOAL_CLIENTS = 32
LABELS = {
    "me": "GET auth/me",
    "search_hit": "search, cached",
    "search_miss": "search, uncached",
    "spread": "booking, 200 flights",
    "hot": "booking, one hot flight",
}


def _median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def _per_run(measurements: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    return {(m["run"], m["scenario"], m["variant"], m["concurrency"]): m for m in measurements}


def _connections_summary(connections: list[dict[str, int]], server_threads: int) -> dict[str, Any]:
    """Persistent: the idle server always holds connections, and no measurement opened more than
    one per server thread (each may be renewed once it reaches CONN_MAX_AGE)."""
    least = min((c["open_after"] for c in connections), default=0)
    most_replaced = max((c["replaced"] for c in connections), default=0)
    return {
        "least_open": least,
        "most_open": max((c["open_after"] for c in connections), default=0),
        "most_replaced": most_replaced,
        "persistent": least > 0 and most_replaced <= server_threads,
    }


def summarise(measurements: list[dict[str, Any]], server_threads: int) -> dict[str, Any]:
    """Group by (scenario, variant, clients): medians over runs, and the per-run ratios' medians.

    Ratios are taken within one repetition (same machine state), then their median is reported:
    an HTTP figure ÷ the database ceiling at the same concurrency (the strategy's form; for_update for
    the rest), and ÷ GET auth/me at the same concurrency.
    """
    index = _per_run(measurements)
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for measurement in measurements:
        groups[(measurement["scenario"], measurement["variant"], measurement["concurrency"])].append(
            measurement
        )
    rows = []
    for (scenario, variant, concurrency), group in groups.items():
        row: dict[str, Any] = {
            "scenario": scenario,
            "variant": variant,
            "concurrency": concurrency,
            "runs": len(group),
        }
        for metric in ("ok_per_s", "requests_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms"):
            row[metric] = _median([m.get(metric) for m in group])
        statuses: Counter = Counter()
        codes: Counter = Counter()
        for m in group:
            statuses.update(m.get("statuses", {}))
            codes.update(m.get("codes", {}))
        row["statuses"], row["codes"] = dict(sorted(statuses.items())), dict(sorted(codes.items()))
        if scenario.startswith("search"):
            row["cache_hit_ratio"] = _median(
                [m["cache"].get("hit", 0) / max(1, m["requests"]) for m in group]
            )
        if scenario in HTTP_SCENARIOS:
            ceiling = [index.get((m["run"], "ceiling", CEILING_FOR[variant], concurrency)) for m in group]
            me = [index.get((m["run"], "me", "-", concurrency)) for m in group]
            row["ceiling_ratio"] = _median(
                [
                    m["ok_per_s"] / c["ok_per_s"]
                    for m, c in zip(group, ceiling, strict=True)
                    if c and c["ok_per_s"]
                ]
            )
            row["me_ratio"] = _median(
                [m["ok_per_s"] / r["ok_per_s"] for m, r in zip(group, me, strict=True) if r and r["ok_per_s"]]
            )
        if scenario == "search_hit":
            misses = [index.get((m["run"], "search_miss", "-", concurrency)) for m in group]
            row["hit_over_miss"] = _median(
                [
                    m["ok_per_s"] / x["ok_per_s"]
                    for m, x in zip(group, misses, strict=True)
                    if x and x["ok_per_s"]
                ]
            )
        checks = [m["check"] for m in group if "check" in m]
        if checks:
            row["checks_ok"] = all(check["ok"] for check in checks)
            row["oversold"] = sum(check.get("oversold", 0) for check in checks)
            row["sold_out_every_run"] = all(check.get("sold_out", True) for check in checks)
            if scenario in STORM_SCENARIOS:
                row["charges_per_booking"] = sorted({n for c in checks for n in c["charges_per_booking"]})
        rows.append(row)
    failures = [
        {key: m[key] for key in ("run", "scenario", "variant", "concurrency", "check")}
        for m in measurements
        if "check" in m and not m["check"]["ok"]
    ]
    connections = [m["db_connections"] for m in measurements if "db_connections" in m]
    return {
        "rows": rows,
        "server_db_connections": _connections_summary(connections, server_threads),
        "goals": _goals(rows),
        "invariants_ok": not failures,
        "invariant_failures": failures,
    }


def _row(rows: list[dict[str, Any]], scenario: str, variant: str, concurrency: int) -> dict[str, Any] | None:
    for row in rows:
        if (row["scenario"], row["variant"], row["concurrency"]) == (scenario, variant, concurrency):
            return row
    return None


def _goals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's goals, each with the measured value and whether it is met (None: not measured)."""
    goals = []
    clients = GOAL_CLIENTS
    for strategy in sorted({row["variant"] for row in rows if row["scenario"] == "hot"}):
        hot = _row(rows, "hot", strategy, clients)
        if hot is None:
            continue
        goals.append(
            {
                "goal": f"hot flight ({strategy}) ≥ 400 bookings/s at {clients} clients, p99 ≤ 150 ms",
                "value": f"{hot['ok_per_s']:.0f}/s, p99 {hot['p99_ms']:.0f} ms",
                "met": hot["ok_per_s"] >= 400 and hot["p99_ms"] <= 150,
            }
        )
        if hot.get("me_ratio") is not None:
            goals.append(
                {
                    "goal": f"hot booking ({strategy}) ≥ 50% of GET auth/me at {clients} clients",
                    "value": f"{hot['me_ratio']:.0%}",
                    "met": hot["me_ratio"] >= 0.5,
                }
            )
    hit = _row(rows, "search_hit", "-", clients)
    if hit is not None and hit.get("hit_over_miss") is not None:
        goals.append(
            {
                "goal": f"cached search ≥ 5× uncached and ≥ 1,000 requests/s at {clients} clients",
                "value": f"{hit['hit_over_miss']:.1f}×, {hit['ok_per_s']:.0f}/s",
                "met": hit["hit_over_miss"] >= 5 and hit["ok_per_s"] >= 1000,
            }
        )
    booking_rows = [row for row in rows if row["scenario"] in BOOKING_SCENARIOS]
    if booking_rows:
        goals.append(
            {
                "goal": "zero oversell, inventory exact, one booking per 201 (every run, both strategies)",
                "value": f"{sum(row['oversold'] for row in booking_rows)} oversold",
                "met": all(row["checks_ok"] for row in booking_rows),
            }
        )
    storm_rows = [row for row in rows if row["scenario"] in STORM_SCENARIOS]
    if storm_rows:
        counts = sorted({n for row in storm_rows for n in row["charges_per_booking"]})
        goals.append(
            {
                "goal": "exactly one charge per booking in every payment storm",
                "value": f"charges per booking: {counts}",
                "met": all(row["checks_ok"] for row in storm_rows),
            }
        )
    return goals


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _ratio(value: float | None, percent: bool = True) -> str:
    if value is None:
        return "–"
    return f"{value:.0%}" if percent else f"{value:.2f}"


def _others(statuses: dict[str, int]) -> str:
    return ", ".join(
        f"{count}× {status}" for status, count in statuses.items() if status not in ("200", "201")
    )


def markdown_report(result: dict[str, Any]) -> str:
    """The tables printed at the end of `make bench` and written to bench/results/<name>.md."""
    config, summary = result["config"], result["summary"]
    rows = summary["rows"]
    server = f"{config['workers']} worker(s) × {config['threads']} thread(s)"
    lines = [
        f"# Airline benchmark `{result['name']}`",
        "",
        f"{result['started_at'][:19]}Z, {result['machine']['cpus']} CPUs, gunicorn {server}, "
        f"medians of {config['runs']} run(s), {config['duration']} s per timed measurement, "
        f"{result['elapsed_s']:.0f} s in all. The load generator is a separate process on the same machine.",
        "",
        "## Goals",
        "",
        "| goal | measured | met |",
        "|---|---|---|",
    ]
    for goal in summary["goals"]:
        lines.append(f"| {goal['goal']} | {goal['value']} | {'yes' if goal['met'] else '**no**'} |")
    lines += [
        "",
        "## HTTP (ok = 2xx answers per second)",
        "",
        "| scenario | strategy | clients | ok/s | p50 ms | p95 ms | p99 ms | other answers | "
        "÷ DB ceiling | ÷ auth/me | cache hits |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = {scenario: position for position, scenario in enumerate(HTTP_SCENARIOS)}
    for row in sorted(
        (r for r in rows if r["scenario"] in order),
        key=lambda r: (order[r["scenario"]], r["variant"], r["concurrency"]),
    ):
        hits = _ratio(row.get("cache_hit_ratio")) if "cache_hit_ratio" in row else ""
        cells = [
            LABELS[row["scenario"]],
            row["variant"],
            str(row["concurrency"]),
            f"{row['ok_per_s']:.0f}",
            _ms(row["p50_ms"]),
            _ms(row["p95_ms"]),
            _ms(row["p99_ms"]),
            _others(row["statuses"]),
            _ratio(row.get("ceiling_ratio")),
            _ratio(row.get("me_ratio")),
            hits,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Database ceiling (bare SQL hold on one hot row, committed/s)",
        "",
        "| form | clients | holds/s |",
        "|---|---|---|",
    ]
    for row in sorted(
        (r for r in rows if r["scenario"] == "ceiling"), key=lambda r: (r["variant"], r["concurrency"])
    ):
        lines.append(f"| {row['variant']} | {row['concurrency']} | {row['ok_per_s']:.0f} |")
    lines += [
        "",
        "## Payment storm (simultaneous payments of one booking)",
        "",
        "| storm | clients | answers | charges per booking |",
        "|---|---|---|---|",
    ]
    storm_labels = {"pay_same": "same Idempotency-Key", "pay_diff": "a new key each"}
    for row in sorted(
        (r for r in rows if r["scenario"] in STORM_SCENARIOS), key=lambda r: (r["scenario"], r["concurrency"])
    ):
        answers = ", ".join(f"{count}× {status}" for status, count in row["statuses"].items())
        codes = ", ".join(f"{count}× {code}" for code, count in row["codes"].items())
        answers += f" ({codes})" if codes else ""
        label, charges = storm_labels[row["scenario"]], row["charges_per_booking"]
        lines.append(f"| {label} | {row['concurrency']} | {answers} | {charges} |")
    connections = summary["server_db_connections"]
    verdict = "persistent" if connections["persistent"] else "**not persistent**"
    lines += [
        "",
        f"Server database connections after each measurement: {connections['least_open']} to "
        f"{connections['most_open']} open, at most {connections['most_replaced']} replaced during one "
        f"({verdict}: CONN_MAX_AGE renews each at most once a minute).",
    ]
    lines += ["", "## Invariants", ""]
    if summary["invariants_ok"]:
        lines.append(
            "All held: no oversell, `available_seats == total_seats − active seats` on every flight, "
            "one booking per 201, exactly one charge per paid booking."
        )
    else:
        lines.append("**FAILED:**")
        lines += [f"- {failure}" for failure in summary["invariant_failures"]]
    return "\n".join(lines) + "\n"
