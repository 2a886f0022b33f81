"""The chart geometry: scales that read well, bars as long as their numbers, labels where they fit."""

import pytest

from apps.dashboard.charts import (
    COLUMN_HEIGHT,
    COLUMN_MARGIN,
    WIDTH,
    Series,
    axis_end,
    column_chart,
    row_chart,
)


@pytest.mark.parametrize(
    ("value", "end"),
    [
        (0, 4),
        (-3, 4),
        (1, 4),
        (4, 4),
        (5, 8),
        (7, 8),
        (9, 20),
        (11, 20),
        (21, 40),
        (41, 80),
        (81, 200),
        (3000, 4000),
        (4001, 8000),
    ],
)
def test_the_value_axis_ends_after_four_round_steps(value, end):
    assert axis_end(value) == end


def test_columns_stand_side_by_side_as_high_as_their_values():
    chart = column_chart(
        categories=["Mon", "Tue"],
        series=[Series("Paid", [4, 1], "solid"), Series("Expired", [0, 2], "hatched")],
    )

    plot = COLUMN_HEIGHT - COLUMN_MARGIN["top"] - COLUMN_MARGIN["bottom"]
    assert [(bar.title, bar.height) for bar in chart.bars] == [
        ("Mon, Paid: 4", plot),
        ("Mon, Expired: 0", 0),
        ("Tue, Paid: 1", plot / 4),
        ("Tue, Expired: 2", plot / 2),
    ]
    # every bar stands on the axis; the second series sits right of the first, in the same slot
    assert {bar.y + bar.height for bar in chart.bars} == {COLUMN_HEIGHT - COLUMN_MARGIN["bottom"]}
    assert chart.bars[1].x == pytest.approx(chart.bars[0].x + chart.bars[0].width)
    assert [tick.text for tick in chart.value_ticks] == ["0", "1", "2", "3", "4"]
    assert [(series.name, series.pattern) for series in chart.legend] == [
        ("Paid", "solid"),
        ("Expired", "hatched"),
    ]


def test_narrow_columns_keep_their_number_as_a_tooltip_only():
    days = [f"day {n}" for n in range(90)]

    chart = column_chart(categories=days, series=[Series("Paid", [1] * 89 + [12], "solid")])

    # "12" is wider than a column of 90 (about 8.5 px of 872): no column's number is written
    assert {bar.label for bar in chart.bars} == {""}
    assert chart.bars[0].title == "day 0, Paid: 1"
    # the category axis names at most 16 days, evenly spaced
    assert len(chart.category_ticks) <= 16


def test_rows_stack_their_series_and_write_the_total_at_the_end():
    chart = row_chart(
        categories=["AI101", "AI202"],
        series=[Series("Paid", [0.5, 0.25], "solid"), Series("On hold", [0.25, 0], "hatched")],
        maximum=1,
        total_text=lambda row: ["75%", "25%"][row],
    )

    plot = WIDTH - 120 - 220
    paid, held = chart.bars[0], chart.bars[1]
    assert (paid.width, held.width) == (plot / 2, plot / 4)
    assert held.x == pytest.approx(paid.x + paid.width)
    assert (paid.label, held.label) == ("", "75%")
    assert held.label_x == pytest.approx(held.x + held.width + 6)
