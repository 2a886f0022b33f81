"""Reads of the flight catalogue: search, autocomplete, detail and seat map."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, connections, models, router
from django.db.backends.utils import CursorWrapper
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from apps.core.rows import model_from_row, row_converter
from apps.flights.exceptions import AirplaneNotFound, FlightNotFound
from apps.flights.models import Airplane, Airport, City, Flight
from apps.flights.places import place_index
from apps.flights.seating import airplane_layout, is_taken, layout_seats

# Public sort names (anything else is refused before a search gets here); price is the base fare.
SORT_FIELDS = ("departure_time", "arrival_time", "price", "duration", "available_seats")
SORT_DIRECTIONS = ("asc", "desc")


@dataclass(frozen=True, slots=True)
class FlightSearchCriteria:
    """A validated search; every field optional. `sort` is ((field, direction), ...); the airports
    are IATA codes (several for a city: apps/flights/places.py), empty for any."""

    departure_codes: tuple[str, ...] = ()
    arrival_codes: tuple[str, ...] = ()
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    travellers: int | None = None
    trip_date: date | None = None
    sort: tuple[tuple[str, str], ...] = ()

    def cache_token(self) -> str:
        """A canonical text of the criteria: equal searches give equal tokens."""
        return "|".join(
            [
                f"trips={','.join(self.departure_codes)}-{','.join(self.arrival_codes)}",
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


# What a flight's answer shows, named as `values()` names it: the search answers rows of these.
_AIRPORT_FIELDS = ("iata_code", "name", "city__name", "city__country", "time_zone")
FLIGHT_ROW_FIELDS = (
    "id",
    "flight_number",
    "airplane_id",
    "airplane__model_name",
    "airplane__registration",
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
    *(f"{side}_airport__{field}" for side in ("departure", "arrival") for field in _AIRPORT_FIELDS),
)

# A flight with its airplane and its airports with their cities, under the aliases the SQL of this
# module uses (a relation path as `values()` names it → alias and model).
_FLIGHT_JOINS = (
    f" FROM {Flight._meta.db_table} f"
    f" JOIN {Airplane._meta.db_table} p ON p.id = f.airplane_id"
    f" JOIN {Airport._meta.db_table} da ON da.id = f.departure_airport_id"
    f" JOIN {City._meta.db_table} dc ON dc.id = da.city_id"
    f" JOIN {Airport._meta.db_table} aa ON aa.id = f.arrival_airport_id"
    f" JOIN {City._meta.db_table} ac ON ac.id = aa.city_id"
)
_JOINED: dict[str, tuple[str, type[models.Model]]] = {
    "": ("f", Flight),
    "airplane": ("p", Airplane),
    "departure_airport": ("da", Airport),
    "departure_airport__city": ("dc", City),
    "arrival_airport": ("aa", Airport),
    "arrival_airport__city": ("ac", City),
}


def _joined_column(name: str) -> tuple[str, type[models.Model], str]:
    """The SQL column, model and attribute name of a `values()` name over `_FLIGHT_JOINS`."""
    path, _, attname = name.rpartition("__")
    alias, model = _JOINED[path]
    field = next(field for field in model._meta.concrete_fields if field.attname == attname)
    return f"{alias}.{field.column}", model, attname


# A search row also carries the flight's fare families' prices (shown beside it, not in FlightOutput).
SEARCH_ROW_FIELDS = (*FLIGHT_ROW_FIELDS, "family_fares")
_ROW_COLUMNS = [_joined_column(name) for name in SEARCH_ROW_FIELDS]
_SEARCH_ROW_SELECT = ", ".join(column for column, _, _ in _ROW_COLUMNS)
_SEARCH_ROW_FIELDS = [(model, attname) for _, model, attname in _ROW_COLUMNS]
_SORT_COLUMNS = {
    "departure_time": "f.departure_time",
    "arrival_time": "f.arrival_time",
    "price": "f.base_fare",
    "available_seats": "f.available_seats",
}


def _catalogue_cursor() -> CursorWrapper:
    """A cursor where the flights app's reads go now: a replica inside
    apps/core/db_router.py: catalogue_read, else the primary."""
    return connections[router.db_for_read(Flight)].cursor()


@dataclass(frozen=True, slots=True)
class FlightSearchPage:
    rows: list[dict[str, Any]]  # SEARCH_ROW_FIELDS of each flight on the page
    count: int  # of all the flights found


def flight_search_page(
    *, criteria: FlightSearchCriteria, page: int, page_size: int, now: datetime | None = None
) -> FlightSearchPage:
    """One page (1-based) of the scheduled flights departing after `now` that match every given
    criterion, sorted, and how many there are in all.

    Prices filter and sort on the base (economy) fare; `travellers` needs that many available
    seats. The ordering always ends with the id, so pages are stable.

    One statement in SQL of its own, the total counted by a window over the same rows (one more, small,
    when it asks past its last page; a date's time zones come from the place index of
    apps/flights/places.py): the ORM spent four times longer building this query and its count than
    the database spends answering them (docs/PROFILE.md).
    """
    where, params = _search_conditions(criteria, now or timezone.now())
    order = []
    for field, direction in criteria.sort or (("departure_time", "asc"),):
        if field == "duration":  # in the database's own arithmetic for it, as the ORM writes it
            column, _ = connection.ops.subtract_temporals(
                "DateTimeField", ("f.arrival_time", []), ("f.departure_time", [])
            )
        else:
            column = _SORT_COLUMNS[field]
        order.append(f"{column} {'DESC' if direction == 'desc' else 'ASC'}")
    order.append("f.id ASC")
    with _catalogue_cursor() as cursor:
        cursor.execute(
            f"SELECT {_SEARCH_ROW_SELECT}, COUNT(*) OVER (){_FLIGHT_JOINS} WHERE {where}"
            f" ORDER BY {', '.join(order)} LIMIT %s OFFSET %s",
            [*params, page_size, (page - 1) * page_size],
        )
        found = cursor.fetchall()
        if found:
            count = found[0][-1]
        elif page == 1:
            count = 0
        else:  # past the last page: how far that is needs a count of its own
            cursor.execute(f"SELECT COUNT(*){_FLIGHT_JOINS} WHERE {where}", params)
            (count,) = cursor.fetchone()
    convert = row_converter(_SEARCH_ROW_FIELDS)
    return FlightSearchPage(
        rows=[dict(zip(SEARCH_ROW_FIELDS, convert(row[:-1]), strict=True)) for row in found], count=count
    )


def _search_conditions(criteria: FlightSearchCriteria, now: datetime) -> tuple[str, list[Any]]:
    """The search's WHERE clause over `_FLIGHT_JOINS` and its parameters."""
    moment = connection.ops.adapt_datetimefield_value
    conditions = ["f.status = %s", "f.departure_time > %s"]
    params: list[Any] = [Flight.Status.SCHEDULED.value, moment(now)]
    for column, codes in (
        ("da.iata_code", criteria.departure_codes),
        ("aa.iata_code", criteria.arrival_codes),
    ):
        if len(codes) == 1:
            conditions.append(f"{column} = %s")
        elif codes:
            conditions.append(f"{column} IN ({', '.join(['%s'] * len(codes))})")
        params += codes
    for condition, value in (
        ("f.base_fare >= %s", criteria.price_min),
        ("f.base_fare <= %s", criteria.price_max),
        ("f.available_seats >= %s", criteria.travellers or None),
    ):
        if value is not None:
            conditions.append(condition)
            params.append(value)
    if criteria.trip_date:
        # One UTC window per time zone among the candidate departure airports (one for a route), so
        # the database uses its departure-time index instead of converting every row's time.
        windows = []
        for zone in _departure_time_zones(criteria.departure_codes):
            start, end = local_day_window(criteria.trip_date, zone)
            windows.append("(f.departure_time >= %s AND f.departure_time < %s AND da.time_zone = %s)")
            params += [moment(start), moment(end), zone]
        conditions.append(f"({' OR '.join(windows)})" if windows else "1 = 0")
    return " AND ".join(conditions), params


# Flexible dates: the days either side of the chosen one that a route's fare calendar shows.
FLEXIBLE_DAYS_AROUND = 3


@dataclass(frozen=True, slots=True)
class DayFare:
    day: date  # in the departure airport's local time
    lowest_fare: Decimal | None  # base (economy) fare; None when no flight has the seats that day
    currency: str | None
    flights: int  # with enough seats that day


def flight_fares_by_day(
    *,
    departure_codes: tuple[str, ...],
    arrival_codes: tuple[str, ...],
    day: date,
    travellers: int = 1,
    now: datetime | None = None,
) -> list[DayFare]:
    """The lowest base fare of each local day from `day` − 3 to `day` + 3 on a route, over the flights
    a search would show (scheduled, departing after `now`, with `travellers` seats): one statement.

    Each flight counts on its departure airport's local date: one UTC window per day and time zone,
    named in a CASE the database groups by, so no row's time is converted. A route's flights are
    priced in one currency (fares of different currencies are never compared: the lower amount wins).
    """
    moment = connection.ops.adapt_datetimefield_value
    days = [day + timedelta(days=offset) for offset in range(-FLEXIBLE_DAYS_AROUND, FLEXIBLE_DAYS_AROUND + 1)]
    arms, arm_params, starts, ends = [], [], [], []
    for zone in _departure_time_zones(departure_codes):
        for each in days:
            start, end = local_day_window(each, zone)
            arms.append("WHEN f.departure_time >= %s AND f.departure_time < %s AND da.time_zone = %s THEN %s")
            arm_params += [moment(start), moment(end), zone, each.isoformat()]
            starts.append(start)
            ends.append(end)
    if not arms:
        return [DayFare(day=each, lowest_fare=None, currency=None, flights=0) for each in days]
    criteria = FlightSearchCriteria(
        departure_codes=departure_codes, arrival_codes=arrival_codes, travellers=max(travellers, 1)
    )
    where, params = _search_conditions(criteria, now or timezone.now())
    with _catalogue_cursor() as cursor:
        cursor.execute(
            f"SELECT CASE {' '.join(arms)} END AS local_day, f.currency, MIN(f.base_fare), COUNT(*)"
            f"{_FLIGHT_JOINS} WHERE {where} AND f.departure_time >= %s AND f.departure_time < %s"
            " GROUP BY local_day, f.currency",
            [*arm_params, *params, moment(min(starts)), moment(max(ends))],
        )
        found = cursor.fetchall()
    lowest: dict[str, tuple[Decimal, str, int]] = {}
    for local_day, currency, fare, count in found:
        if local_day is None:
            continue
        amount = Decimal(str(fare)).quantize(Decimal("0.01"))
        seen = lowest.get(local_day)
        flights = count + (seen[2] if seen else 0)
        lowest[local_day] = (
            min((amount, currency), seen[:2]) + (flights,) if seen else (amount, currency, count)
        )
    return [
        DayFare(day=each, lowest_fare=found_day[0], currency=found_day[1], flights=found_day[2])
        if (found_day := lowest.get(each.isoformat()))
        else DayFare(day=each, lowest_fare=None, currency=None, flights=0)
        for each in days
    ]


def _departure_time_zones(departure_codes: tuple[str, ...]) -> list[str]:
    """The time zones of these airports (of all, when none is given), from the place index: no
    query while the catalogue version stands (apps/flights/places.py)."""
    zones = place_index().time_zones
    return sorted(
        {zones[code] for code in departure_codes if code in zones} if departure_codes else {*zones.values()}
    )


def _flights_as_shown() -> QuerySet[Flight]:
    """Flights with what FlightOutput shows: the airplane, the airports and their cities."""
    return Flight.objects.select_related("airplane", "departure_airport__city", "arrival_airport__city")


def flight_get(*, flight_id: int) -> Flight:
    """One flight with what FlightOutput shows (one query). Raises FlightNotFound."""
    flight = _flights_as_shown().filter(pk=flight_id).first()
    if flight is None:
        raise FlightNotFound(f"Flight {flight_id} does not exist.")
    return flight


def flight_list(*, flight_ids: list[int]) -> list[Flight]:
    """The flights with these ids, in this order, with what FlightOutput shows (one query)."""
    flights = _flights_as_shown().in_bulk(flight_ids)
    return [flights[flight_id] for flight_id in flight_ids if flight_id in flights]


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
    "family_fares",
)
_HOLD_AIRPLANE_COLUMNS = ("id", "model_name", "registration", "updated_at")
# With the charge the airport adds to a departing seat's price (apps/flights/fares.py).
_HOLD_AIRPORT_COLUMNS = (
    "id",
    "iata_code",
    "name",
    "time_zone",
    "city_id",
    "departure_charge_name",
    "departure_charge",
    "departure_charge_currency",
)
_HOLD_CITY_COLUMNS = ("id", "name", "country")


def _select(alias: str, columns: tuple[str, ...]) -> str:
    return ", ".join(f"{alias}.{column}" for column in columns)


_FLIGHT_FOR_HOLD_SQL = (
    f"SELECT {_select('f', _HOLD_FLIGHT_COLUMNS)}, {_select('p', _HOLD_AIRPLANE_COLUMNS)},"
    f" {_select('da', _HOLD_AIRPORT_COLUMNS)}, {_select('dc', _HOLD_CITY_COLUMNS)},"
    f" {_select('aa', _HOLD_AIRPORT_COLUMNS)}, {_select('ac', _HOLD_CITY_COLUMNS)}"
    f"{_FLIGHT_JOINS} WHERE f.id = %s"
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
