"""What the dashboard page shows: each figure as a chart and as the table of its numbers."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from apps.dashboard.charts import Chart, Series, column_chart, plain, row_chart
from apps.dashboard.selectors import SalesFigures


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


def sales_panels(figures: SalesFigures) -> list[Panel]:
    return [
        _paid_bookings(figures),
        *(_revenue(figures, currency) for currency in figures.currencies),
        _holds(figures),
        _load_factor(figures),
        _routes(figures),
    ]


def _paid_bookings(figures: SalesFigures) -> Panel:
    sales = figures.sales
    total = sum(day.paid_bookings for day in sales)
    return Panel(
        slug="paid-bookings",
        title="Bookings paid per day",
        description=f"{count_of(total, 'booking')} paid in {figures.days.count} days, one bar per day.",
        chart=column_chart(
            categories=[_day(day.day) for day in sales],
            series=[Series("Bookings paid", [day.paid_bookings for day in sales], "solid")],
        ),
        table=Table(
            headers=["Day", "Bookings paid", "Refunds"],
            rows=[[_day(day.day), plain(day.paid_bookings), plain(day.refunds)] for day in sales],
        ),
    )


def _revenue(figures: SalesFigures, currency: str) -> Panel:
    sales = figures.sales
    zero = Decimal("0.00")
    revenue = [day.revenue.get(currency, zero) for day in sales]
    refunded = [day.refunded.get(currency, zero) for day in sales]
    return Panel(
        slug=f"revenue-{currency.lower()}",
        title=f"Revenue and refunds per day, {currency}",
        description=(
            f"Paid {money(sum(revenue, zero), currency)}, refunded {money(sum(refunded, zero), currency)} "
            f"in {figures.days.count} days; per day, a solid bar for the amount paid and a hatched bar "
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


def _holds(figures: SalesFigures) -> Panel:
    holds = figures.holds
    return Panel(
        slug="holds",
        title="Holds by the day they were made: paid or expired",
        description=(
            f"{count_of(sum(day.holds for day in holds), 'hold')} made in {figures.days.count} days, "
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


def _load_factor(figures: SalesFigures) -> Panel:
    flights = figures.fullest_flights
    upcoming = figures.upcoming
    zone = figures.days.zone
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


def _routes(figures: SalesFigures) -> Panel:
    routes = figures.routes
    return Panel(
        slug="routes",
        title="Busiest routes by bookings paid",
        description=(
            f"The {count_of(len(routes), 'route')} with the most bookings paid in "
            f"{figures.days.count} days, one bar per route, the count written at its end."
            if routes
            else f"No booking was paid in {figures.days.count} days."
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
