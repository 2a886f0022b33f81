"""Reads of the flight catalogue: search, autocomplete, detail and seat map."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Case, DurationField, ExpressionWrapper, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from apps.core.rows import model_from_row
from apps.flights.exceptions import AirplaneNotFound, FlightNotFound
from apps.flights.models import Airplane, Airport, City, Flight
from apps.flights.seating import airplane_layout, is_taken, layout_seats

# Public sort names → columns (anything else is refused by the API before it gets here).
SORT_FIELDS: dict[str, str] = {
    "departure_time": "departure_time",
    "arrival_time": "arrival_time",
    "price": "base_fare",
    "duration": "duration",
    "available_seats": "available_seats",
}
SORT_DIRECTIONS = ("asc", "desc")


@dataclass(frozen=True, slots=True)
class FlightSearchCriteria:
    """A validated search; every field optional. `sort` is ((field, direction), ...)."""

    departure_code: str | None = None
    arrival_code: str | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    travellers: int | None = None
    trip_date: date | None = None
    sort: tuple[tuple[str, str], ...] = ()

    def cache_token(self) -> str:
        """A canonical text of the criteria: equal searches give equal tokens."""
        return "|".join(
            [
                f"trips={self.departure_code or ''}-{self.arrival_code or ''}",
                f"price={self.price_min if self.price_min is not None else ''}"
                f"-{self.price_max if self.price_max is not None else ''}",
                f"travellers={self.travellers or ''}",
                f"date={self.trip_date.isoformat() if self.trip_date else ''}",
                "sort=" + ",".join(f"{field}_{direction}" for field, direction in self.sort),
            ]
        )


# Searchable departure dates: far enough either side of today for any real schedule, and far from
# the ends of the calendar, where converting a local day to UTC overflows.
TRIP_DATE_MAX_YEARS_AWAY = 5


def trip_date_searchable(day: date) -> bool:
    return abs((day - timezone.now().date()).days) <= TRIP_DATE_MAX_YEARS_AWAY * 366


def local_day_window(day: date, time_zone: str) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of one calendar day in a time zone (23, 24 or 25 hours)."""
    zone = ZoneInfo(time_zone)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def _trip_date_condition(trip_date: date, departure_code: str | None) -> Q:
    """Flights departing on `trip_date` in their departure airport's local time.

    One UTC window per time zone among the candidate departure airports (one for a route), so the
    database uses its departure-time index instead of converting every row's time.
    """
    airports = Airport.objects.all()
    if departure_code:
        airports = airports.filter(iata_code=departure_code)
    time_zones = sorted(set(airports.values_list("time_zone", flat=True)))
    if not time_zones:
        return Q(pk__in=[])
    conditions = []
    for zone in time_zones:
        start, end = local_day_window(trip_date, zone)
        window = Q(departure_time__gte=start, departure_time__lt=end)
        conditions.append(window if departure_code else window & Q(departure_airport__time_zone=zone))
    return reduce(or_, conditions)


def flight_search(*, criteria: FlightSearchCriteria, now: datetime | None = None) -> QuerySet[Flight]:
    """Scheduled flights departing after `now` that match every given criterion, sorted.

    Prices filter and sort on the base (economy) fare; `travellers` needs that many available
    seats. The ordering always ends with the id, so pages are stable. At most one query runs
    here (the time zones for a trip date); the queryset itself joins everything FlightOutput shows.
    """
    flights = Flight.objects.select_related(
        "airplane", "departure_airport__city", "arrival_airport__city"
    ).filter(status=Flight.Status.SCHEDULED, departure_time__gt=now or timezone.now())
    if criteria.departure_code:
        flights = flights.filter(departure_airport__iata_code=criteria.departure_code)
    if criteria.arrival_code:
        flights = flights.filter(arrival_airport__iata_code=criteria.arrival_code)
    if criteria.price_min is not None:
        flights = flights.filter(base_fare__gte=criteria.price_min)
    if criteria.price_max is not None:
        flights = flights.filter(base_fare__lte=criteria.price_max)
    if criteria.travellers:
        flights = flights.filter(available_seats__gte=criteria.travellers)
    if criteria.trip_date:
        flights = flights.filter(_trip_date_condition(criteria.trip_date, criteria.departure_code))
    ordering = []
    for field, direction in criteria.sort or (("departure_time", "asc"),):
        column = F(SORT_FIELDS[field])
        ordering.append(column.desc() if direction == "desc" else column.asc())
    if any(field == "duration" for field, _ in criteria.sort):
        flights = flights.annotate(
            duration=ExpressionWrapper(F("arrival_time") - F("departure_time"), output_field=DurationField())
        )
    return flights.order_by(*ordering, "id")


def flight_get(*, flight_id: int) -> Flight:
    """One flight with what FlightOutput shows (one query). Raises FlightNotFound."""
    flight = (
        Flight.objects.select_related("airplane", "departure_airport__city", "arrival_airport__city")
        .filter(pk=flight_id)
        .first()
    )
    if flight is None:
        raise FlightNotFound(f"Flight {flight_id} does not exist.")
    return flight


def city_list() -> QuerySet[City]:
    return City.objects.order_by("name", "country")


def airport_search(*, q: str = "") -> QuerySet[Airport]:
    """Airports whose IATA code, name or city starts with `q` (case-insensitive), exact code first."""
    airports = Airport.objects.select_related("city")
    q = q.strip()
    if not q:
        return airports.order_by("iata_code")
    return (
        airports.filter(Q(iata_code__istartswith=q) | Q(name__istartswith=q) | Q(city__name__istartswith=q))
        .annotate(
            exact=Case(
                When(iata_code=q.upper(), then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("exact", "iata_code")
    )


def airplane_list() -> QuerySet[Airplane]:
    return Airplane.objects.prefetch_related("cabin_sections").order_by("registration")


def airplane_get(*, airplane_id: int) -> Airplane:
    """One airplane with its cabin sections (two queries). Raises AirplaneNotFound."""
    airplane = airplane_list().filter(pk=airplane_id).first()
    if airplane is None:
        raise AirplaneNotFound(f"Airplane {airplane_id} does not exist.")
    return airplane


@dataclass(frozen=True, slots=True)
class SeatStatus:
    code: str
    row: int
    letter: str
    cabin: str
    fare: Decimal | None
    status: str  # "available" or "taken"


@dataclass(frozen=True, slots=True)
class SeatMap:
    flight: Flight
    seats: list[SeatStatus]


def flight_seat_map(*, flight_id: int) -> SeatMap:
    """Every seat of the flight's airplane with its cabin, fare and status (one query; the layout is
    read once per process). A seat is taken while a booking holds or has it (`Flight.seats_taken`).

    Raises FlightNotFound.
    """
    flight = Flight.objects.select_related("airplane").filter(pk=flight_id).first()
    if flight is None:
        raise FlightNotFound(f"Flight {flight_id} does not exist.")
    layout = airplane_layout(flight.airplane_id, flight.airplane.updated_at)
    seats = [
        SeatStatus(
            code=seat.code,
            row=seat.row,
            letter=seat.letter,
            cabin=seat.cabin,
            fare=flight.fare_for(seat.cabin),
            status="taken" if is_taken(flight.seats_taken, seat.position) else "available",
        )
        for seat in layout_seats(layout)
    ]
    return SeatMap(flight=flight, seats=seats)


# A hold reads its flight with what the hold decides and what its answer shows, on every request:
# one query, written here because the ORM spent several times longer building this join than the
# database spends answering it (docs/PROFILE.md).
_HOLD_FLIGHT_COLUMNS = (
    "id",
    "flight_number",
    "airplane_id",
    "departure_airport_id",
    "arrival_airport_id",
    "departure_time",
    "arrival_time",
    "currency",
    "base_fare",
    "premium_economy_fare",
    "business_fare",
    "first_fare",
    "gate",
    "status",
    "total_seats",
    "available_seats",
    "seats_taken",
)
_HOLD_AIRPLANE_COLUMNS = ("id", "model_name", "registration", "updated_at")
_HOLD_AIRPORT_COLUMNS = ("id", "iata_code", "name", "time_zone", "city_id")
_HOLD_CITY_COLUMNS = ("id", "name", "country")


def _select(alias: str, columns: tuple[str, ...]) -> str:
    return ", ".join(f"{alias}.{column}" for column in columns)


_FLIGHT_FOR_HOLD_SQL = (
    f"SELECT {_select('f', _HOLD_FLIGHT_COLUMNS)}, {_select('p', _HOLD_AIRPLANE_COLUMNS)},"
    f" {_select('da', _HOLD_AIRPORT_COLUMNS)}, {_select('dc', _HOLD_CITY_COLUMNS)},"
    f" {_select('aa', _HOLD_AIRPORT_COLUMNS)}, {_select('ac', _HOLD_CITY_COLUMNS)}"
    f" FROM {Flight._meta.db_table} f"
    f" JOIN {Airplane._meta.db_table} p ON p.id = f.airplane_id"
    f" JOIN {Airport._meta.db_table} da ON da.id = f.departure_airport_id"
    f" JOIN {City._meta.db_table} dc ON dc.id = da.city_id"
    f" JOIN {Airport._meta.db_table} aa ON aa.id = f.arrival_airport_id"
    f" JOIN {City._meta.db_table} ac ON ac.id = aa.city_id"
    " WHERE f.id = %s"
)


def flight_get_for_hold(*, flight_id: int) -> Flight:
    """A flight as a hold needs it, in one query: its sale state, fares and seats, and its airplane
    (with `updated_at`, which names its layout) and airports with their cities, as FlightOutput
    shows them. Other columns are deferred. Raises FlightNotFound."""
    with connection.cursor() as cursor:
        cursor.execute(_FLIGHT_FOR_HOLD_SQL, [flight_id])
        row = cursor.fetchone()
    if row is None:
        raise FlightNotFound(f"Flight {flight_id} does not exist.")
    parts = []
    for model, columns in (
        (Flight, _HOLD_FLIGHT_COLUMNS),
        (Airplane, _HOLD_AIRPLANE_COLUMNS),
        (Airport, _HOLD_AIRPORT_COLUMNS),
        (City, _HOLD_CITY_COLUMNS),
        (Airport, _HOLD_AIRPORT_COLUMNS),
        (City, _HOLD_CITY_COLUMNS),
    ):
        parts.append(model_from_row(model, columns, row[: len(columns)]))
        row = row[len(columns) :]
    flight, airplane, departure, departure_city, arrival, arrival_city = parts
    departure.city, arrival.city = departure_city, arrival_city
    flight.airplane, flight.departure_airport, flight.arrival_airport = airplane, departure, arrival
    return flight
