"""What the dashboard page shows: each figure as a chart and as the table of its numbers."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from apps.dashboard.charts import Chart, Series, column_chart, plain, row_chart
from apps.dashboard.selectors import SalesDashboard


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Panel:
    slug: str  # the element ids' stem
    title: str
    description: str  # what the chart shows, in words (the SVG's <desc>)
    chart: Chart | None  # None when there is nothing to draw
    table: Table


def money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def count_of(number: int, noun: str) -> str:
    """1 → "1 hold", 1200 → "1,200 holds"."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def percent(share: float) -> str:
    return f"{share:.0%}"


def _day(day) -> str:
    return day.strftime("%a %d %b")


def sales_panels(dashboard: SalesDashboard) -> list[Panel]:
    return [
        _paid_bookings(dashboard),
        *(_revenue(dashboard, currency) for currency in dashboard.currencies),
        _holds(dashboard),
        _load_factor(dashboard),
        _routes(dashboard),
    ]


def _paid_bookings(dashboard: SalesDashboard) -> Panel:
    sales = dashboard.sales
    total = sum(day.paid_bookings for day in sales)
    return Panel(
        slug="paid-bookings",
        title="Bookings paid per day",
        description=f"{count_of(total, 'booking')} paid in {dashboard.days.count} days, one bar per day.",
        chart=column_chart(
            categories=[_day(day.day) for day in sales],
            series=[Series("Bookings paid", [day.paid_bookings for day in sales], "solid")],
        ),
        table=Table(
            headers=["Day", "Bookings paid", "Refunds"],
            rows=[[_day(day.day), plain(day.paid_bookings), plain(day.refunds)] for day in sales],
        ),
    )


def _revenue(dashboard: SalesDashboard, currency: str) -> Panel:
    sales = dashboard.sales
    zero = Decimal("0.00")
    revenue = [day.revenue.get(currency, zero) for day in sales]
    refunded = [day.refunded.get(currency, zero) for day in sales]
    return Panel(
        slug=f"revenue-{currency.lower()}",
        title=f"Revenue and refunds per day, {currency}",
        description=(
            f"Paid {money(sum(revenue, zero), currency)}, refunded {money(sum(refunded, zero), currency)} "
            f"in {dashboard.days.count} days; per day, a solid bar for the amount paid and a hatched bar "
            "for the amount refunded."
        ),
        chart=column_chart(
            categories=[_day(day.day) for day in sales],
            series=[Series("Paid", revenue, "solid"), Series("Refunded", refunded, "hatched")],
            value_text=lambda amount: money(amount, currency),
        ),
        table=Table(
            headers=["Day", f"Paid ({currency})", f"Refunded ({currency})", f"Net ({currency})"],
            rows=[
                [_day(day.day), plain(paid), plain(back), plain(day.net(currency))]
                for day, paid, back in zip(sales, revenue, refunded, strict=True)
            ],
        ),
    )


def _holds(dashboard: SalesDashboard) -> Panel:
    holds = dashboard.holds
    return Panel(
        slug="holds",
        title="Holds by the day they were made: paid or expired",
        description=(
            f"{count_of(sum(day.holds for day in holds), 'hold')} made in {dashboard.days.count} days, "
            f"{sum(day.paid for day in holds):,} paid and {sum(day.expired for day in holds):,} expired; "
            "per day, a solid bar for those paid and a hatched bar for those that expired."
        ),
        chart=column_chart(
            categories=[_day(day.day) for day in holds],
            series=[
                Series("Paid", [day.paid for day in holds], "solid"),
                Series("Expired", [day.expired for day in holds], "hatched"),
            ],
        ),
        table=Table(
            headers=["Day made", "Holds", "Paid", "Expired", "Open or cancelled unpaid"],
            rows=[
                [_day(day.day), plain(day.holds), plain(day.paid), plain(day.expired), plain(day.other)]
                for day in holds
            ],
        ),
    )


def _load_factor(dashboard: SalesDashboard) -> Panel:
    flights = dashboard.fullest_flights
    upcoming = dashboard.upcoming
    zone = dashboard.days.zone
    overall = percent(upcoming.taken_seats / upcoming.seats) if upcoming.seats else "no seats"
    categories = [
        f"{flight.flight_number} {flight.origin}→{flight.destination} "
        f"{timezone.localtime(flight.departure_time, zone):%d %b %H:%M}"
        for flight in flights
    ]
    return Panel(
        slug="load-factor",
        title=f"Load factor: the {len(flights)} fullest flights of the next 14 days",
        description=(
            f"{count_of(upcoming.flights, 'scheduled flight')} in the next 14 days with "
            f"{count_of(upcoming.seats, 'seat')}, "
            f"{overall} taken. One row per flight: a solid bar for the share of seats paid for, a hatched "
            "bar for the share on hold, the total share written at its end."
        ),
        chart=row_chart(
            categories=categories,
            series=[
                Series("Paid", [flight.load_factor for flight in flights], "solid"),
                Series("On hold", [flight.held_seats / flight.total_seats for flight in flights], "hatched"),
            ],
            maximum=1,
            total_text=lambda row: percent(flights[row].taken_factor),
            value_text=percent,
            axis_text=percent,
        )
        if flights
        else None,
        table=Table(
            headers=["Flight", "Departs", "Seats", "Paid", "On hold", "Load factor (paid)", "Taken"],
            rows=[
                [
                    f"{flight.flight_number} {flight.origin}→{flight.destination}",
                    f"{timezone.localtime(flight.departure_time, zone):%a %d %b %H:%M}",
                    plain(flight.total_seats),
                    plain(flight.paid_seats),
                    plain(flight.held_seats),
                    percent(flight.load_factor),
                    percent(flight.taken_factor),
                ]
                for flight in flights
            ],
        ),
    )


def _routes(dashboard: SalesDashboard) -> Panel:
    routes = dashboard.routes
    return Panel(
        slug="routes",
        title="Busiest routes by bookings paid",
        description=(
            f"The {count_of(len(routes), 'route')} with the most bookings paid in "
            f"{dashboard.days.count} days, one bar per route, the count written at its end."
            if routes
            else f"No booking was paid in {dashboard.days.count} days."
        ),
        chart=row_chart(
            categories=[f"{route.origin}→{route.destination} ({route.currency})" for route in routes],
            series=[Series("Bookings paid", [route.paid_bookings for route in routes], "solid")],
            total_text=lambda row: plain(routes[row].paid_bookings),
            label_width=160,
        )
        if routes
        else None,
        table=Table(
            headers=["Route", "Bookings paid", "Revenue"],
            rows=[
                [
                    f"{route.origin}→{route.destination}",
                    plain(route.paid_bookings),
                    money(route.revenue, route.currency),
                ]
                for route in routes
            ],
        ),
    )
