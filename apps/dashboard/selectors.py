"""The sales dashboard's figures: one aggregate query per figure, whatever the amount of data.

Days are the business time zone's (apps/dashboard/periods.py). Money stays Decimal and per currency:
a flight sells in its own currency (`Flight.currency`), and amounts in two currencies are never
added. Sales are counted on the day a booking was paid (`Booking.confirmed_at`, indexed for this),
refunds on the day the refund was made (`Refund.created_at`), holds on the day they were made
(`Booking.created_at`) with what became of them.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, F, FloatField, Q, Sum
from django.db.models.functions import Cast

from apps.bookings.models import Booking, SeatAssignment
from apps.dashboard.periods import Days
from apps.flights.models import Flight
from apps.payments.models import Refund

UPCOMING_DAYS = 14
FULLEST_FLIGHTS = 20
BUSIEST_ROUTES = 10

Money = dict[str, Decimal]  # currency → amount


@dataclass(frozen=True)
class SalesDay:
    day: date
    paid_bookings: int = 0
    revenue: Money = field(default_factory=dict)
    refunds: int = 0
    refunded: Money = field(default_factory=dict)

    def net(self, currency: str) -> Decimal:
        return self.revenue.get(currency, Decimal("0.00")) - self.refunded.get(currency, Decimal("0.00"))


@dataclass(frozen=True)
class HoldsDay:
    """The holds made on `day` and what became of them so far."""

    day: date
    holds: int = 0
    paid: int = 0  # confirmed, even if cancelled and refunded since
    expired: int = 0

    @property
    def other(self) -> int:
        """Still held or being paid, or cancelled before payment."""
        return self.holds - self.paid - self.expired


@dataclass(frozen=True)
class FlightLoad:
    flight_id: int
    flight_number: str
    origin: str
    destination: str
    departure_time: datetime
    total_seats: int
    taken_seats: int  # held, being paid or paid: the seat counter's view
    paid_seats: int

    @property
    def held_seats(self) -> int:
        return self.taken_seats - self.paid_seats

    @property
    def load_factor(self) -> float:
        """Seats paid for, as a share of the seats."""
        return self.paid_seats / self.total_seats

    @property
    def taken_factor(self) -> float:
        return self.taken_seats / self.total_seats


@dataclass(frozen=True)
class UpcomingTotals:
    flights: int
    seats: int
    taken_seats: int


@dataclass(frozen=True)
class RouteSales:
    origin: str
    destination: str
    currency: str
    paid_bookings: int
    revenue: Decimal


@dataclass(frozen=True)
class SalesFigures:
    days: Days
    now: datetime
    sales: list[SalesDay]
    holds: list[HoldsDay]
    fullest_flights: list[FlightLoad]
    upcoming: UpcomingTotals
    routes: list[RouteSales]

    @property
    def currencies(self) -> list[str]:
        found = {currency for day in self.sales for currency in (*day.revenue, *day.refunded)}
        return sorted(found | {route.currency for route in self.routes})


def sales_figures_get(*, days: Days, now: datetime) -> SalesFigures:
    """Every figure of the dashboard for `days`, and the flights of the UPCOMING_DAYS from `now`.

    Six queries, each an aggregate: paid bookings and refunds per day and currency, holds per day,
    the fullest upcoming flights, the upcoming totals and the busiest routes.
    """
    return SalesFigures(
        days=days,
        now=now,
        sales=sales_per_day(days=days),
        holds=holds_per_day(days=days),
        fullest_flights=flights_fullest(now=now),
        upcoming=upcoming_totals(now=now),
        routes=routes_busiest(days=days),
    )


def sales_per_day(*, days: Days) -> list[SalesDay]:
    """Paid bookings and their amounts, refunds and theirs, for each day (two queries)."""
    paid = (
        Booking.objects.filter(days.within("confirmed_at"))
        .annotate(day=days.day_number("confirmed_at"))
        .values("day", "currency")
        .annotate(count=Count("id"), amount=Sum("total_amount"))
        .order_by()
    )
    refunds = (
        Refund.objects.filter(days.within("created_at"))
        .annotate(day=days.day_number("created_at"))
        .values("day", "currency")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    counts: dict[int, int] = defaultdict(int)
    revenue: dict[int, Money] = defaultdict(dict)
    for row in paid:
        counts[row["day"]] += row["count"]
        revenue[row["day"]][row["currency"]] = row["amount"]
    refund_counts: dict[int, int] = defaultdict(int)
    refunded: dict[int, Money] = defaultdict(dict)
    for row in refunds:
        refund_counts[row["day"]] += row["count"]
        refunded[row["day"]][row["currency"]] = row["amount"]
    return [
        SalesDay(
            day=day,
            paid_bookings=counts[number],
            revenue=revenue[number],
            refunds=refund_counts[number],
            refunded=refunded[number],
        )
        for number, day in enumerate(days.dates)
    ]


def holds_per_day(*, days: Days) -> list[HoldsDay]:
    """For the holds made each day: how many, how many were paid, how many expired."""
    rows = (
        Booking.objects.filter(days.within("created_at"))
        .annotate(day=days.day_number("created_at"))
        .values("day")
        .annotate(
            holds=Count("id"),
            paid=Count("id", filter=Q(confirmed_at__isnull=False)),
            expired=Count("id", filter=Q(status=Booking.Status.EXPIRED)),
        )
        .order_by()
    )
    by_day = {row["day"]: row for row in rows}
    return [
        HoldsDay(day=day, **{key: by_day[number][key] for key in ("holds", "paid", "expired")})
        if number in by_day
        else HoldsDay(day=day)
        for number, day in enumerate(days.dates)
    ]


def _upcoming_flights(now: datetime):
    return Flight.objects.filter(
        status=Flight.Status.SCHEDULED,
        departure_time__gte=now,
        departure_time__lt=now + timedelta(days=UPCOMING_DAYS),
    )


def flights_fullest(*, now: datetime, limit: int = FULLEST_FLIGHTS) -> list[FlightLoad]:
    """The `limit` scheduled flights of the next UPCOMING_DAYS with the highest share of seats taken."""
    rows = (
        _upcoming_flights(now)
        .annotate(
            taken=F("total_seats") - F("available_seats"),
            taken_share=Cast(F("total_seats") - F("available_seats"), FloatField())
            / Cast("total_seats", FloatField()),
            paid=Count(
                "seat_assignments",
                filter=Q(
                    seat_assignments__active=True,
                    seat_assignments__booking__status=Booking.Status.CONFIRMED,
                ),
            ),
        )
        .order_by("-taken_share", "departure_time", "id")
        .values(
            "id",
            "flight_number",
            "departure_airport__iata_code",
            "arrival_airport__iata_code",
            "departure_time",
            "total_seats",
            "taken",
            "paid",
        )[:limit]
    )
    return [
        FlightLoad(
            flight_id=row["id"],
            flight_number=row["flight_number"],
            origin=row["departure_airport__iata_code"],
            destination=row["arrival_airport__iata_code"],
            departure_time=row["departure_time"],
            total_seats=row["total_seats"],
            taken_seats=row["taken"],
            paid_seats=row["paid"],
        )
        for row in rows
    ]


def upcoming_totals(*, now: datetime) -> UpcomingTotals:
    totals = _upcoming_flights(now).aggregate(
        flights=Count("id"), seats=Sum("total_seats"), available=Sum("available_seats")
    )
    seats = totals["seats"] or 0
    return UpcomingTotals(
        flights=totals["flights"], seats=seats, taken_seats=seats - (totals["available"] or 0)
    )


def routes_busiest(*, days: Days, limit: int = BUSIEST_ROUTES) -> list[RouteSales]:
    """The routes with the most bookings paid in `days`, with what they were paid (per currency).

    Counted from the bookings' seats, so a journey counts on the route of each of its flights, with
    what its seats on that flight cost (a one-flight booking: its total)."""
    rows = (
        SeatAssignment.objects.filter(days.within("booking__confirmed_at"))
        .values(
            currency=F("booking__currency"),
            origin=F("flight__departure_airport__iata_code"),
            destination=F("flight__arrival_airport__iata_code"),
        )
        .annotate(paid_bookings=Count("booking_id", distinct=True), revenue=Sum("fare"))
        .order_by("-paid_bookings", "origin", "destination", "currency")[:limit]
    )
    return [RouteSales(**row) for row in rows]
