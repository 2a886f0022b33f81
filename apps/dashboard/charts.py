"""Bar charts as geometry, drawn as inline SVG by templates/dashboard/_chart.html.

No JavaScript and no style attributes (the site's Content-Security-Policy forbids inline styles):
shapes carry classes styled in apps/dashboard/static/dashboard/dashboard.css, and a pattern is a
`fill="url(#…)"` presentation attribute. Series differ by pattern (solid, hatched) as well as by
colour, every bar carries its number (as a label where there is room, always as a tooltip), and the
numbers behind every chart are also a table.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

Number = int | float | Decimal

WIDTH = 960
# Room for the value axis' labels on the left and the category labels below.
COLUMN_MARGIN = {"left": 72, "right": 16, "top": 16, "bottom": 40}
COLUMN_HEIGHT = 280
ROW_HEIGHT = 26
BAR_GAP = 0.25  # of each category's slot, left empty between categories
LABEL_CHARACTER_WIDTH = 7.5  # of a label's 12 px characters, to know whether a column's number fits
MAX_CATEGORY_LABELS = 16
AXIS_STEPS = 4


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Number]
    pattern: str  # "solid" | "hatched" (templates/dashboard/_chart.html): told apart without colour


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    pattern: str
    title: str  # the tooltip: category, series and value
    label: str  # the value as written on the chart (as on its axis); "" where there is no room
    label_x: float  # where the label is anchored: above a column's middle, after a row's end
    label_y: float


@dataclass(frozen=True)
class Tick:
    position: float
    text: str


@dataclass(frozen=True)
class Chart:
    kind: str  # "columns" | "rows"
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    bars: list[Bar]
    category_ticks: list[Tick]
    value_ticks: list[Tick]
    legend: list[Series]


def axis_end(value: Number) -> Decimal:
    """Where the value axis ends: four equal steps of 1, 2 or 5 × 10ⁿ, at least 1 (counts and
    money read in whole numbers), the smallest that reaches `value`; the axis is labelled at each step."""
    needed = Decimal(str(value)) / AXIS_STEPS
    if needed <= 1:
        return Decimal(AXIS_STEPS)
    exponent = math.floor(math.log10(needed))
    step = next(
        candidate
        for candidate in (Decimal(multiple).scaleb(exponent) for multiple in (1, 2, 5, 10))
        if candidate >= needed
    )
    return step * AXIS_STEPS


def plain(value: Number) -> str:
    """1234 → "1,234"; 1234.5 → "1,234.50"."""
    if isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral()):
        return f"{int(value):,}"
    return f"{value:,.2f}"


def column_chart(
    *,
    categories: Sequence[str],
    series: Sequence[Series],
    value_text: Callable[[Number], str] = plain,
    axis_text: Callable[[Number], str] = plain,
) -> Chart:
    """Vertical bars: one slot per category (a day), the series side by side within it."""
    margin = COLUMN_MARGIN
    left, top = margin["left"], margin["top"]
    right, bottom = WIDTH - margin["right"], COLUMN_HEIGHT - margin["bottom"]
    top_value = axis_end(max((value for item in series for value in item.values), default=0))
    slot = (right - left) / max(len(categories), 1)
    bar_width = slot * (1 - BAR_GAP) / max(len(series), 1)
    # Every column's number is written above it, or none is: only if the longest fits its column.
    longest = max((len(axis_text(value)) for item in series for value in item.values), default=0)
    labelled = longest * LABEL_CHARACTER_WIDTH <= slot * (1 - BAR_GAP / 2) / max(len(series), 1)
    bars = []
    for index, category in enumerate(categories):
        for position, item in enumerate(series):
            value = item.values[index]
            height = float(Decimal(str(value)) / top_value) * (bottom - top)
            x = left + index * slot + slot * BAR_GAP / 2 + position * bar_width
            bars.append(
                Bar(
                    x=round(x, 2),
                    y=round(bottom - height, 2),
                    width=round(bar_width, 2),
                    height=round(height, 2),
                    pattern=item.pattern,
                    title=f"{category}, {item.name}: {value_text(value)}",
                    label=axis_text(value) if labelled else "",
                    label_x=round(x + bar_width / 2, 2),
                    label_y=round(bottom - height - 4, 2),
                )
            )
    every = math.ceil(len(categories) / MAX_CATEGORY_LABELS) or 1
    category_ticks = [
        Tick(position=round(left + (index + 0.5) * slot, 2), text=category)
        for index, category in enumerate(categories)
        if index % every == 0
    ]
    value_ticks = [
        Tick(
            position=round(bottom - (bottom - top) * step / AXIS_STEPS, 2),
            text=axis_text(top_value * step / AXIS_STEPS),
        )
        for step in range(AXIS_STEPS + 1)
    ]
    return Chart(
        kind="columns",
        width=WIDTH,
        height=COLUMN_HEIGHT,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        bars=bars,
        category_ticks=category_ticks,
        value_ticks=value_ticks,
        legend=list(series),
    )


def row_chart(
    *,
    categories: Sequence[str],
    series: Sequence[Series],
    maximum: Number | None = None,
    total_text: Callable[[int], str],
    value_text: Callable[[Number], str] = plain,
    axis_text: Callable[[Number], str] = plain,
    label_width: int = 220,
) -> Chart:
    """Horizontal bars, one row per category, the series stacked; `total_text(row)` is written at
    each row's end. `maximum` fixes the scale (1 for shares); otherwise it fits the largest row."""
    left, top, right = label_width, 8, WIDTH - 120
    bottom = top + ROW_HEIGHT * max(len(categories), 1)
    totals = [
        sum((Decimal(str(item.values[row])) for item in series), Decimal(0)) for row in range(len(categories))
    ]
    scale = Decimal(str(maximum)) if maximum is not None else axis_end(max(totals, default=0))
    bars = []
    for row, category in enumerate(categories):
        x = float(left)
        for item in series:
            value = item.values[row]
            width = float(Decimal(str(value)) / scale) * (right - left)
            y = top + row * ROW_HEIGHT + 4
            bars.append(
                Bar(
                    x=round(x, 2),
                    y=y,
                    width=round(width, 2),
                    height=ROW_HEIGHT - 8,
                    pattern=item.pattern,
                    title=f"{category}, {item.name}: {value_text(value)}",
                    label=total_text(row) if item is series[-1] else "",
                    label_x=round(x + width + 6, 2),
                    label_y=y + (ROW_HEIGHT - 8) / 2,
                )
            )
            x += width
    category_ticks = [
        Tick(position=top + row * ROW_HEIGHT + ROW_HEIGHT / 2, text=category)
        for row, category in enumerate(categories)
    ]
    value_ticks = [
        Tick(
            position=round(left + (right - left) * step / AXIS_STEPS, 2),
            text=axis_text(scale * step / AXIS_STEPS),
        )
        for step in range(AXIS_STEPS + 1)
    ]
    return Chart(
        kind="rows",
        width=WIDTH,
        height=int(bottom + 28),
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        bars=bars,
        category_ticks=category_ticks,
        value_ticks=value_ticks,
        legend=list(series),
    )
