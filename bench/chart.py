"""Throughput charts, one SVG per scenario: ok answers per second against clients, a line for each
server and strategy measured (bench/results/<name>/<scenario>.svg).

Hand-written SVG rather than a plotting library: a few line charts need axes, ticks, lines and a
legend, about a hundred lines here, against a bench-only dependency tree (matplotlib brings numpy,
pillow and fonttools) to pin and install on every machine that runs the tests. The output is plain
text, so the harness test can read it back.
"""

import math
from collections import defaultdict
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 840, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 310, 50, 50  # the legend sits in the right margin
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def _nice_step(top: float, ticks: int = 5) -> float:
    """A round tick step (1, 2 or 5 × a power of ten) giving about `ticks` steps up to `top`."""
    raw = max(top, 1.0) / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= raw)


def chart_svg(title: str, series: dict[str, list[tuple[int, float]]], y_label: str = "ok answers / s") -> str:
    """A line chart: x = clients (evenly spaced, as measured), y = throughput from 0."""
    clients = sorted({x for points in series.values() for x, _ in points})
    top = max((y for points in series.values() for _, y in points), default=1.0)
    step = _nice_step(top)
    y_max = step * math.ceil(top / step) if top > 0 else step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_at(value: int) -> float:
        if len(clients) == 1:
            return LEFT + plot_w / 2
        return LEFT + plot_w * clients.index(value) / (len(clients) - 1)

    def y_at(value: float) -> float:
        return TOP + plot_h * (1 - value / y_max)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="{TOP - 20}" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    tick = 0.0
    while tick <= y_max + step / 2:
        y = y_at(tick)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{tick:,.0f}</text>')
        tick += step
    for value in clients:
        x = x_at(value)
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP + plot_h}" x2="{x:.1f}" y2="{TOP + plot_h + 5}" stroke="#333"/>'
        )
        parts.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 20}" text-anchor="middle">{value}</text>')
    parts += [
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#333"/>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#333"/>',
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle">'
        "clients (connections)</text>",
        f'<text transform="translate(16 {TOP + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
        f"{escape(y_label)}</text>",
    ]
    for index, (name, points) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        ordered = sorted(points)
        path = " ".join(f"{x_at(x):.1f},{y_at(y):.1f}" for x, y in ordered)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in ordered:
            parts.append(
                f'<circle cx="{x_at(x):.1f}" cy="{y_at(y):.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(name)}: {y:,.0f}/s at {x} clients</title></circle>"
            )
        legend_y = TOP + 10 + index * 20
        legend_x = WIDTH - RIGHT + 20
        parts.append(
            f'<line x1="{legend_x}" y1="{legend_y}" x2="{legend_x + 20}" y2="{legend_y}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(f'<text x="{legend_x + 26}" y="{legend_y + 4}">{escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def charts_write(folder: Path, rows: list[dict[str, Any]], scenarios: dict[str, str]) -> list[Path]:
    """One chart per scenario of `scenarios` (name → title) from the summary's rows (medians)."""
    by_scenario: dict[str, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row["scenario"] in scenarios:
            by_scenario[row["scenario"]][f"{row['server']}, {row['strategy']}"].append(
                (row["concurrency"], row["ok_per_s"])
            )
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for scenario, series in by_scenario.items():
        path = folder / f"{scenario}.svg"
        path.write_text(chart_svg(scenarios[scenario], dict(sorted(series.items()))))
        written.append(path)
    return written
