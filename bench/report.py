"""Medians of the repetitions, ratios within each repetition, the goals, and the Markdown report.

Every throughput figure is divided by GET auth/me measured in the same repetition, on the same
server (same configuration, same strategy's process) and at the same number of clients; the median
of those per-run ratios is reported (docs/BENCHMARK.md).
"""

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

GOAL_CLIENTS = 32
BOOKING_SCENARIOS = ("spread", "hot", "journey")
THROUGHPUT_SCENARIOS = ("me", "flight", "seats", "search_hit", "search_miss", "spread", "hot", "journey")
STORM_SCENARIOS = ("pay_same", "pay_diff")
CEILING_FOR = {"pessimistic": "for_update", "optimistic": "conditional"}
LABELS = {
    "me": "GET auth/me",
    "me_python": "GET auth/me (Python client)",
    "flight": "flight detail",
    "seats": "seat map",
    "search_hit": "search, cached",
    "search_miss": "search, uncached",
    "spread": "booking, many flights",
    "hot": "booking, one hot flight",
    "journey": "booking a return trip (2 flights)",
}


@dataclass(frozen=True)
class Goal:
    """Throughput ≥ `min_ratio` × auth/me at GOAL_CLIENTS clients (and p99 ≤ `max_p99_ms`, if set)."""

    scenario: str
    min_ratio: float
    max_p99_ms: float | None = None
    per_strategy: bool = False


THROUGHPUT_GOALS = (
    Goal("spread", 0.40, 150, per_strategy=True),
    Goal("hot", 0.30, 150, per_strategy=True),
    Goal("flight", 1.5),
    Goal("seats", 1.0),
    Goal("search_hit", 2.0),
    Goal("search_miss", 0.6),
)
SINGLE_BOOKING_P50_MS = 4.0  # one booking at 1 client (the spread scenario at one connection)


def _median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def _key(m: dict[str, Any]) -> tuple:
    return (m["scenario"], m["strategy"], m["server"], m["concurrency"])


def summarise(
    measurements: list[dict[str, Any]], production: str, goal_clients: int = GOAL_CLIENTS
) -> dict[str, Any]:
    """Group by (scenario, strategy, server, clients): medians over runs and of per-run ratios; the
    goals are judged at `goal_clients` (GOAL_CLIENTS unless the run measured other counts)."""
    by_run = {(m["run"], *_key(m)): m for m in measurements}
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for measurement in measurements:
        groups[_key(measurement)].append(measurement)
    rows = [_row(key, group, by_run) for key, group in groups.items()]
    failures = [
        {key: m[key] for key in ("run", "scenario", "strategy", "server", "concurrency", "check")}
        for m in measurements
        if "check" in m and not m["check"]["ok"]
    ]
    connections = [m["db_connections"] for m in measurements if "db_connections" in m]
    return {
        "production": production,
        "goal_clients": goal_clients,
        "rows": rows,
        "server_db_connections": _connections_summary(connections),
        "goals": goals_evaluate(rows, production, goal_clients),
        "invariants_ok": not failures,
        "invariant_failures": failures,
    }


def _row(key: tuple, group: list[dict[str, Any]], by_run: dict[tuple, dict[str, Any]]) -> dict[str, Any]:
    scenario, strategy, server, concurrency = key
    row: dict[str, Any] = {
        "scenario": scenario,
        "strategy": strategy,
        "server": server,
        "concurrency": concurrency,
        "runs": len(group),
        "client": group[0].get("client"),
    }
    for metric in ("ok_per_s", "requests_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms", "client_cpu_share"):
        row[metric] = _median([m.get(metric) for m in group])
    statuses: Counter = Counter()
    codes: Counter = Counter()
    for m in group:
        statuses.update(m.get("statuses", {}))
        codes.update(m.get("codes", {}))
    row["statuses"], row["codes"] = dict(sorted(statuses.items())), dict(sorted(codes.items()))
    row["transport_errors"] = sum(m.get("transport_errors", 0) for m in group)
    if "closed_by_server" in group[0]:
        row["closed_share"] = sum(m["closed_by_server"] for m in group) / max(
            1, sum(m["requests"] for m in group)
        )
    if scenario.startswith("search"):
        row["cache_hit_ratio"] = _median([m["cache"].get("hit", 0) / max(1, m["requests"]) for m in group])

    def ratio(other_scenario: str, other_strategy: str, other_server: str) -> float | None:
        values = []
        for m in group:
            other = by_run.get((m["run"], other_scenario, other_strategy, other_server, concurrency))
            if other and other["ok_per_s"]:
                values.append(m["ok_per_s"] / other["ok_per_s"])
        return _median(values)

    if scenario in (*THROUGHPUT_SCENARIOS, "me_python"):
        row["me_ratio"] = ratio("me", strategy, server)
    if scenario in BOOKING_SCENARIOS:
        row["ceiling_ratio"] = ratio("ceiling", CEILING_FOR.get(strategy, "for_update"), "-")
    if scenario == "hot":
        row["seats"] = max(m["seats"] for m in group)
        row["window_s"] = min(m["window_s"] for m in group)
        row["sold_out_runs"] = sum(1 for m in group if m["check"].get("sold_out"))
    checks = [m["check"] for m in group if "check" in m]
    if checks:
        row["checks_ok"] = all(check["ok"] for check in checks)
        row["oversold"] = sum(check.get("oversold", 0) for check in checks)
        if scenario in STORM_SCENARIOS:
            row["charges_per_booking"] = sorted({n for c in checks for n in c["charges_per_booking"]})
    return row


def _connections_summary(connections: list[dict[str, int]]) -> dict[str, Any]:
    """Persistent: the idle server always holds connections, and no measurement opened more than one
    per server thread (each may be renewed once it reaches CONN_MAX_AGE)."""
    least = min((c["open_after"] for c in connections), default=0)
    return {
        "least_open": least,
        "most_open": max((c["open_after"] for c in connections), default=0),
        "most_replaced": max((c["replaced"] for c in connections), default=0),
        "persistent": least > 0 and all(c["replaced"] <= c["server_threads"] for c in connections),
    }


def find_row(
    rows: list[dict[str, Any]], scenario: str, strategy: str | None, server: str, concurrency: int
) -> dict[str, Any] | None:
    for row in rows:
        if (row["scenario"], row["server"], row["concurrency"]) == (scenario, server, concurrency) and (
            strategy is None or row["strategy"] == strategy
        ):
            return row
    return None


def goals_evaluate(rows: list[dict[str, Any]], production: str, clients: int) -> list[dict[str, Any]]:
    """The issue's goals on the production server, each with the measured value and whether it is met
    (None: nothing to decide within one run)."""
    goals = []
    strategies = sorted({row["strategy"] for row in rows if row["scenario"] in BOOKING_SCENARIOS})
    for goal in THROUGHPUT_GOALS:
        for strategy in strategies if goal.per_strategy else [None]:
            row = find_row(rows, goal.scenario, strategy, production, clients)
            if row is None or row.get("me_ratio") is None:
                continue
            name = LABELS[goal.scenario] + (f" ({strategy})" if strategy else "")
            text = f"{name} ≥ {goal.min_ratio:.2f}× auth/me at {clients} clients"
            value = f"{row['me_ratio']:.2f}× ({row['ok_per_s']:.0f}/s)"
            met = row["me_ratio"] >= goal.min_ratio
            if goal.max_p99_ms is not None:
                text += f", p99 ≤ {goal.max_p99_ms:.0f} ms"
                value += f", p99 {row['p99_ms']:.0f} ms"
                met = met and row["p99_ms"] <= goal.max_p99_ms
            if goal.scenario == "hot":
                text += ", not sold out during the measurement"
                if row["sold_out_runs"]:
                    value += f", sold out in {row['sold_out_runs']} of {row['runs']} run(s)"
                    met = False
            goals.append({"goal": text, "value": value, "met": met})
    for strategy in strategies:
        row = find_row(rows, "spread", strategy, production, 1)
        if row is not None:
            goals.append(
                {
                    "goal": f"one booking at 1 client ({strategy}): p50 ≤ {SINGLE_BOOKING_P50_MS:.0f} ms",
                    "value": f"p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms",
                    "met": row["p50_ms"] <= SINGLE_BOOKING_P50_MS,
                }
            )
    booking_rows = [row for row in rows if row["scenario"] in BOOKING_SCENARIOS]
    if booking_rows:
        goals.append(
            {
                "goal": "zero oversell, inventory exact, one booking per 201 (every run, server, strategy)",
                "value": f"{sum(row['oversold'] for row in booking_rows)} oversold",
                "met": all(row["checks_ok"] for row in booking_rows),
            }
        )
    storm_rows = [row for row in rows if row["scenario"] in STORM_SCENARIOS]
    if storm_rows:
        counts = sorted({n for row in storm_rows for n in row["charges_per_booking"]})
        goals.append(
            {
                "goal": "exactly one charge per booking in every payment storm (one key, and a key each)",
                "value": f"charges per booking: {counts}",
                "met": all(row["checks_ok"] for row in storm_rows),
            }
        )
    me = find_row(rows, "me", strategies[0] if strategies else None, production, clients)
    if me is not None:
        goals.append(
            {
                "goal": "auth/me itself not slower (compare with the previous run on the same machine)",
                "value": f"{me['ok_per_s']:.0f}/s, p99 {me['p99_ms']:.0f} ms",
                "met": None,
            }
        )
    return goals


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _times(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _others(statuses: dict[str, int], codes: dict[str, int]) -> str:
    others = ", ".join(
        f"{count}× {status}" for status, count in statuses.items() if not status.startswith("2")
    )
    named = ", ".join(f"{count}× {code}" for code, count in codes.items())
    return others + (f" ({named})" if named else "")


def _keepalive(row: dict[str, Any] | None) -> str:
    if row is None or "closed_share" not in row:
        return "–"
    return "yes" if row["closed_share"] == 0 else f"no ({row['closed_share']:.0%} of answers closed it)"


def markdown_report(result: dict[str, Any]) -> str:
    """The report printed at the end of `make bench` and written to bench/results/<name>.md."""
    config, summary = result["config"], result["summary"]
    rows, production = summary["rows"], summary["production"]
    lines = [
        f"# Airline benchmark `{result['name']}`",
        "",
        f"{result['started_at'][:19]}Z, {result['machine']['cpus']} CPUs, server {production}, "
        f"medians of {config['runs']} run(s), {config['duration']} s per measurement, "
        f"{result['elapsed_s']:.0f} s in all. Load from {result['machine'].get('wrk', 'wrk')} (one "
        "connection per client, keep-alive) on the same machine; ratios are to GET auth/me in the same "
        "run, on the same server, at the same number of clients (docs/BENCHMARK.md).",
        "",
        "## Goals",
        "",
        "| goal | measured | met |",
        "|---|---|---|",
    ]
    verdicts = {True: "yes", False: "**no**", None: "–"}
    for goal in summary["goals"]:
        lines.append(f"| {goal['goal']} | {goal['value']} | {verdicts[goal['met']]} |")
    lines += _throughput_table(rows, production, config.get("name", ""))
    lines += _hot_table(rows, production)
    lines += _client_table(rows, production, summary["goal_clients"])
    lines += _server_table(result, rows, production, summary["goal_clients"])
    lines += _ceiling_table(rows)
    lines += _storm_table(rows)
    connections = summary["server_db_connections"]
    verdict = "persistent" if connections["persistent"] else "**not persistent**"
    lines += [
        "",
        f"Server database connections after each measurement: {connections['least_open']} to "
        f"{connections['most_open']} open, at most {connections['most_replaced']} replaced during one "
        f"({verdict}: CONN_MAX_AGE renews each at most once a minute).",
        "",
        "## Invariants",
        "",
    ]
    if summary["invariants_ok"]:
        lines.append(
            "All held: no oversell, `available_seats == total_seats − active seats` on every flight, "
            "one booking per 201, exactly one charge per paid booking."
        )
    else:
        lines.append("**FAILED:**")
        lines += [f"- {failure}" for failure in summary["invariant_failures"]]
    return "\n".join(lines) + "\n"


def _throughput_table(rows: list[dict[str, Any]], production: str, name: str) -> list[str]:
    lines = [
        "",
        f"## Throughput on {production} (ok = 2xx answers per second)",
        "",
        "| scenario | strategy | clients | ok/s | ÷ auth/me | p50 ms | p95 ms | p99 ms | other answers "
        "| ÷ DB ceiling | cache hits | client CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = {scenario: position for position, scenario in enumerate(THROUGHPUT_SCENARIOS)}
    for row in sorted(
        (r for r in rows if r["scenario"] in order and r["server"] == production),
        key=lambda r: (order[r["scenario"]], r["strategy"], r["concurrency"]),
    ):
        booking = row["scenario"] in BOOKING_SCENARIOS or row["scenario"] == "me"
        cells = [
            LABELS[row["scenario"]],
            row["strategy"] if booking else "–",
            str(row["concurrency"]),
            f"{row['ok_per_s']:.0f}",
            _times(row.get("me_ratio")),
            _ms(row["p50_ms"]),
            _ms(row["p95_ms"]),
            _ms(row["p99_ms"]),
            _others(row["statuses"], row["codes"]),
            _share(row.get("ceiling_ratio")) if "ceiling_ratio" in row else "",
            _share(row.get("cache_hit_ratio")) if "cache_hit_ratio" in row else "",
            _share(row.get("client_cpu_share")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    present = sorted({r["scenario"] for r in rows if r["scenario"] in order}, key=order.get)
    if present and name:
        charts = ", ".join(f"[{LABELS[s]}]({name}/{s}.svg)" for s in present)
        lines += ["", f"Charts (throughput against clients, per strategy and server): {charts}."]
    return lines


def _hot_table(rows: list[dict[str, Any]], production: str) -> list[str]:
    hot = sorted(
        (r for r in rows if r["scenario"] == "hot"),
        key=lambda r: (r["server"] != production, r["server"], r["strategy"], r["concurrency"]),
    )
    if not hot:
        return []
    lines = [
        "",
        "## The hot flight",
        "",
        "Sized for twice what the best spread rate just measured on the same server would sell in the "
        "window, so that it does not sell out during it; past the layout's 1,500 seats the window is "
        "shortened instead.",
        "",
        "| server | strategy | clients | seats | window s | sold out during it |",
        "|---|---|---|---|---|---|",
    ]
    for row in hot:
        sold_out = f"**{row['sold_out_runs']} of {row['runs']} run(s)**" if row["sold_out_runs"] else "no"
        lines.append(
            f"| {row['server']} | {row['strategy']} | {row['concurrency']} | {row['seats']} | "
            f"{row['window_s']:.1f} | {sold_out} |"
        )
    return lines


def _client_table(rows: list[dict[str, Any]], production: str, clients: int) -> list[str]:
    """How much of the machine the load generator took: wrk on every scenario, and the Python client
    on auth/me in the same run, for comparison."""
    measured = [
        r
        for r in rows
        if r["server"] == production
        and r.get("client_cpu_share") is not None
        and r["scenario"] in (*THROUGHPUT_SCENARIOS, "me_python")
    ]
    if not measured:
        return []
    lines = [
        "",
        "## The load generator's own CPU (utime + stime over the measurement, share of all cores)",
        "",
        "| scenario | strategy | clients | client | ok/s | client CPU |",
        "|---|---|---|---|---|---|",
    ]
    python = [r for r in measured if r["scenario"] == "me_python" and r["concurrency"] == clients]
    for row in sorted(
        (r for r in measured if r["concurrency"] == clients),
        key=lambda r: ((*THROUGHPUT_SCENARIOS, "me_python").index(r["scenario"]), r["strategy"]),
    ):
        lines.append(
            f"| {LABELS[row['scenario']]} | {row['strategy']} | {row['concurrency']} | {row['client']} | "
            f"{row['ok_per_s']:.0f} | {_share(row['client_cpu_share'])} |"
        )
    if python:
        me = find_row(rows, "me", python[0]["strategy"], production, clients)
        if me is not None:
            lines += [
                "",
                f"On the same server and run, GET auth/me at {clients} clients: wrk {me['ok_per_s']:.0f}/s "
                f"taking {_share(me['client_cpu_share'])} of the machine, the Python client "
                f"{python[0]['ok_per_s']:.0f}/s taking {_share(python[0]['client_cpu_share'])}.",
            ]
    return lines


def _server_table(
    result: dict[str, Any], rows: list[dict[str, Any]], production: str, clients: int
) -> list[str]:
    servers = list(result.get("servers", {}))
    if len(servers) < 2:
        return []
    strategy = result["config"]["strategies"][0]
    base = find_row(rows, "me", strategy, production, clients)
    lines = [
        "",
        f"## Servers compared ({strategy} strategy, {clients} clients; each ratio to its own auth/me)",
        "",
        "| server | keep-alive | auth/me /s (÷ production's) | flight detail | booking, many flights | "
        "booking, hot flight | one booking at 1 client |",
        "|---|---|---|---|---|---|---|",
    ]
    for server in servers:
        me = find_row(rows, "me", strategy, server, clients)
        if me is None:
            continue

        def cell(scenario: str, with_p99: bool, server: str = server) -> str:
            row = find_row(rows, scenario, strategy, server, clients)
            if row is None:
                return "–"
            text = f"{row['ok_per_s']:.0f}/s, {_times(row.get('me_ratio'))}"
            return text + (f", p99 {row['p99_ms']:.0f} ms" if with_p99 else "")

        single = find_row(rows, "spread", strategy, server, 1)
        relative = f" ({me['ok_per_s'] / base['ok_per_s']:.2f}×)" if base and base["ok_per_s"] else ""
        lines.append(
            f"| {server} | {_keepalive(me)} | {me['ok_per_s']:.0f}{relative} | {cell('flight', False)} | "
            f"{cell('spread', True)} | {cell('hot', True)} | "
            + (f"p50 {single['p50_ms']:.1f} ms, p99 {single['p99_ms']:.1f} ms" if single else "–")
            + " |"
        )
    return lines


def _ceiling_table(rows: list[dict[str, Any]]) -> list[str]:
    ceiling = sorted(
        (r for r in rows if r["scenario"] == "ceiling"), key=lambda r: (r["strategy"], r["concurrency"])
    )
    if not ceiling:
        return []
    lines = [
        "",
        "## Database ceiling (bare SQL hold on one hot row, committed/s)",
        "",
        "| form | clients | holds/s |",
        "|---|---|---|",
    ]
    lines += [f"| {row['strategy']} | {row['concurrency']} | {row['ok_per_s']:.0f} |" for row in ceiling]
    return lines


def _storm_table(rows: list[dict[str, Any]]) -> list[str]:
    storms = sorted(
        (r for r in rows if r["scenario"] in STORM_SCENARIOS), key=lambda r: (r["scenario"], r["concurrency"])
    )
    if not storms:
        return []
    lines = [
        "",
        "## Payment storm (simultaneous payments of one booking, Python client)",
        "",
        "| storm | clients | answers | charges per booking |",
        "|---|---|---|---|",
    ]
    labels = {"pay_same": "same Idempotency-Key", "pay_diff": "a new key each"}
    for row in storms:
        answers = ", ".join(f"{count}× {status}" for status, count in row["statuses"].items())
        codes = ", ".join(f"{count}× {code}" for code, count in row["codes"].items())
        answers += f" ({codes})" if codes else ""
        lines.append(
            f"| {labels[row['scenario']]} | {row['concurrency']} | {answers} | {row['charges_per_booking']} |"
        )
    return lines
