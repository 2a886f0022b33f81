"""The sales dashboard's numbers on a small hand-built data set (apps/dashboard/tests/conftest.py:
`sales`), in its tables and in its charts."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from apps.dashboard.charts import COLUMN_HEIGHT, COLUMN_MARGIN
from apps.dashboard.tests.conftest import Sales

pytestmark = pytest.mark.django_db

URL = reverse("dashboard:sales")
PLOT_HEIGHT = COLUMN_HEIGHT - COLUMN_MARGIN["top"] - COLUMN_MARGIN["bottom"]


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def tables(response) -> dict[str, list[list[str]]]:
    return {panel.slug: panel.table.rows for panel in response.context["panels"]}


def week(sales: Sales, values: dict[int, list[str]], zero: list[str]) -> list[list[str]]:
    """One table row per day of the last 7, oldest first: `values[days_ago]` or `zero`."""
    return [[sales.day(days_ago), *values.get(days_ago, zero)] for days_ago in range(6, -1, -1)]


def test_the_tables_count_each_day_exactly(staff_client, sales):
    # when staff open the dashboard for the last 7 days
    response = staff_client.get(URL, {"days": 7})

    # then every table says exactly what happened on which day
    assert response.status_code == 200
    numbers = tables(response)
    assert numbers["paid-bookings"] == week(sales, {6: ["1", "0"], 3: ["1", "0"], 1: ["2", "1"]}, ["0", "0"])
    assert numbers["revenue-inr"] == week(
        sales, {3: ["1,000", "0", "1,000"], 1: ["3,000", "1,000", "2,000"]}, ["0", "0", "0"]
    )
    assert numbers["revenue-usd"] == week(sales, {6: ["100", "0", "100"]}, ["0", "0", "0"])
    assert numbers["holds"] == week(
        sales,
        {
            6: ["2", "1", "1", "0"],
            3: ["2", "1", "1", "0"],
            2: ["1", "1", "0", "0"],
            1: ["1", "1", "0", "0"],
            0: ["1", "0", "0", "1"],
        },
        ["0", "0", "0", "0"],
    )
    # paid: paid2 (2 seats), late and old; on hold: open; refunded and expired seats were given back
    load = numbers["load-factor"]
    assert [row[0] for row in load] == [
        f"{sales.inr.flight_number} BOM→DEL",
        f"{sales.usd.flight_number} DEL→BOM",
    ]
    assert [row[2:] for row in load] == [["10", "4", "1", "40%", "50%"], ["10", "1", "0", "10%", "10%"]]
    assert numbers["routes"] == [["BOM→DEL", "3", "4,000.00 INR"], ["DEL→BOM", "1", "100.00 USD"]]


def test_the_summaries_say_the_totals_in_words(staff_client, sales):
    response = staff_client.get(URL, {"days": 7})

    descriptions = {panel.slug: panel.description for panel in response.context["panels"]}
    assert descriptions["paid-bookings"].startswith("4 bookings paid in 7 days")
    assert descriptions["revenue-inr"].startswith("Paid 4,000.00 INR, refunded 1,000.00 INR in 7 days")
    assert descriptions["holds"].startswith("7 holds made in 7 days, 4 paid and 2 expired")
    assert descriptions["load-factor"].startswith(
        "2 scheduled flights in the next 14 days with 20 seats, 30% taken"
    )


def _bars(html: str, slug: str) -> list[tuple[float, float, str]]:
    """(height, width, title) of each bar in the chart `slug`, in document order."""
    chart = re.search(rf'<svg[^>]*data-chart="{slug}".*?</svg>', html, re.S)
    assert chart, f"no chart {slug}"
    return [
        (float(height), float(width), title)
        for width, height, title in re.findall(
            r'<rect x="[^"]*" y="[^"]*" width="([^"]*)" height="([^"]*)" class="chart-bar[^"]*"[^>]*'
            r'data-value-title="([^"]*)"',
            chart.group(0),
        )
    ]


def test_the_bars_are_as_high_as_their_numbers(staff_client, sales):
    html = staff_client.get(URL, {"days": 7}).content.decode()

    # paid bookings: on an axis of four steps of 1
    bars = _bars(html, "paid-bookings")
    assert [title for _, _, title in bars] == [
        f"{sales.day(days_ago)}, Bookings paid: {count}"
        for days_ago, count in zip(range(6, -1, -1), [1, 0, 0, 1, 0, 2, 0], strict=True)
    ]
    assert [height for height, _, _ in bars] == [
        PLOT_HEIGHT / 4,
        0,
        0,
        PLOT_HEIGHT / 4,
        0,
        PLOT_HEIGHT / 2,
        0,
    ]
    # INR revenue, paid and refunded side by side: 3,000 on an axis of four steps of 1,000
    inr = {title: height for height, _, title in _bars(html, "revenue-inr")}
    assert inr[f"{sales.day(1)}, Paid: 3,000.00 INR"] == pytest.approx(PLOT_HEIGHT * 3 / 4, abs=0.01)
    assert inr[f"{sales.day(1)}, Refunded: 1,000.00 INR"] == pytest.approx(PLOT_HEIGHT / 4, abs=0.01)
    # load factor rows: 40 % paid then 10 % on hold for the INR flight, on a 0–100 % scale
    (paid_width, paid_title), (held_width, held_title) = [(w, t) for _, w, t in _bars(html, "load-factor")][
        :2
    ]
    assert paid_title.endswith("Paid: 40%")
    assert held_title.endswith("On hold: 10%")
    assert held_width == pytest.approx(paid_width / 4, abs=0.01)
    # the hatched series is told apart by its pattern, not only by colour
    assert re.search(r'class="chart-bar chart-bar--hatched" fill="url\(#revenue-inr-hatched\)"', html)


def test_each_chart_is_an_image_named_by_its_heading_with_its_numbers_in_a_table(staff_client, sales):
    html = staff_client.get(URL, {"days": 7}).content.decode()

    for slug in ("paid-bookings", "revenue-inr", "revenue-usd", "holds", "load-factor", "routes"):
        assert f'role="img" aria-labelledby="{slug}-heading {slug}-summary" data-chart="{slug}"' in html
        assert f'<table data-table="{slug}">' in html


def test_days_are_the_business_time_zones(staff_client, sales, settings):
    # given the same bookings, with days counted in New York instead of Kolkata (10.5 h behind)
    settings.SALES_DASHBOARD_TIME_ZONE = "America/New_York"

    response = staff_client.get(URL, {"days": 30})

    # then each payment made between 00:00 and 08:05 in Kolkata falls on the day before in New York
    # (whether it keeps summer time or not): paid2 and late on D-2, refunded on D-4, dollars on D-7
    # and old, outside the last 7 days, on D-11
    paid = {row[0]: row[1] for row in tables(response)["paid-bookings"] if row[1] != "0"}
    assert paid == {sales.day(2): "2", sales.day(4): "1", sales.day(7): "1", sales.day(11): "1"}


@pytest.mark.parametrize(("asked", "shown"), [("7", 7), ("90", 90), ("12", 30), ("", 30), ("x", 30)])
def test_the_period_is_7_30_or_90_days(staff_client, asked, shown):
    response = staff_client.get(URL, {"days": asked})

    assert response.status_code == 200
    assert response.context["days"].count == shown
    assert len(tables(response)["paid-bookings"]) == shown


def test_an_empty_dashboard_renders(staff_client):
    response = staff_client.get(URL)

    assert response.status_code == 200
    assert tables(response)["load-factor"] == []
    assert b"Nothing to draw." in response.content
    descriptions = {panel.slug: panel.description for panel in response.context["panels"]}
    assert descriptions["routes"] == "No booking was paid in 30 days."
    assert descriptions["holds"].startswith("0 holds made in 30 days, 0 paid and 0 expired")


def test_the_admin_index_links_to_the_dashboard_for_those_who_may_see_it(staff_user, bare_staff_user):
    admin_index = "/" + settings.ADMIN_URL
    link = f'href="{URL}"'
    allowed, refused = Client(), Client()
    allowed.force_login(staff_user)
    refused.force_login(bare_staff_user)

    assert link in allowed.get(admin_index).content.decode()
    assert link not in refused.get(admin_index).content.decode()
