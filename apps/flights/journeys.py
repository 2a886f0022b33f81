"""Journey search: one way, return and multi-city trips, each segment a cached one-way search.

A journey is 1–4 segments, each a route (two places, apps/flights/places.py) on a local date, for a
number of passengers. Each segment is answered as the one-way search answers its route and date
(`flight_search_page`, scheduled flights with the seats, by departure time), cached under the
catalogue version like the search (apps/flights/search_cache.py: `cached_search`), so a staff edit
is seen by the next journey search and a repeated one costs no query.

Each flight is priced for all passengers in the cheapest cabin with room for them all (the cabin a
hold without chosen seats fills), and the journey's cheapest total is the cheapest choice of one
flight per segment that keeps the connection rule (`journey_connection_problem`) between each
segment and the next. docs/API.md, "Journeys", describes the API; the website's results page shows
the same segments (apps/flights/views.py: `results`).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from django.conf import settings

from apps.core.db_router import catalogue_read
from apps.core.exceptions import ValidationFailed
from apps.flights.models import CABIN_FARE_FIELDS, MAX_PARTY_SIZE, MAX_SEGMENTS, Flight
from apps.flights.places import Place
from apps.flights.search_cache import cached_search, search_token
from apps.flights.seating import airplane_layout, cabin_free_counts
from apps.flights.selectors import (
    TRIP_DATE_MAX_YEARS_AWAY,
    FlightSearchCriteria,
    flight_search_page,
    trip_date_searchable,
)

# The flights one segment lists (by departure time): more than any route flies in a day.
SEGMENT_MAX_FLIGHTS = 100


class TripKind(StrEnum):
    ONE_WAY = "one_way"
    RETURN = "return"
    MULTI_CITY = "multi_city"


# How many segments each kind of trip has (fewest, most).
SEGMENTS_PER_TRIP = {
    TripKind.ONE_WAY: (1, 1),
    TripKind.RETURN: (2, 2),
    TripKind.MULTI_CITY: (2, MAX_SEGMENTS),
}


class Timed(Protocol):
    """What the connection rule reads of a flight: a Flight, or a JourneyFlight of a search."""

    departure_time: datetime
    arrival_time: datetime


def journey_connection_problem(previous_flight: Timed, next_flight: Timed) -> str | None:
    """Why `next_flight` cannot follow `previous_flight` in one journey (a sentence), or None.

    The next flight must leave at least JOURNEY_MIN_CONNECTION_MINUTES after the previous one lands
    (whatever the airports: a multi-city segment may start elsewhere). The hold of a journey calls
    this too, so the search and the booking keep one rule.
    """
    minimum = settings.JOURNEY_MIN_CONNECTION_MINUTES
    gap = (next_flight.departure_time - previous_flight.arrival_time).total_seconds() / 60
    if gap >= minimum:
        return None
    if gap < 0:
        return f"It leaves before the previous flight lands; at least {minimum} minutes are needed."
    return f"It leaves {int(gap)} minutes after the previous flight lands; at least {minimum} are needed."


@dataclass(frozen=True, slots=True)
class JourneySegmentQuery:
    origin: Place
    destination: Place
    day: date


@dataclass(frozen=True, slots=True)
class JourneyProblem:
    """One refused value: the segment (1-based; 0 for the journey as a whole) and its field
    ("origin", "destination", "date"; "passengers")."""

    position: int
    field: str
    message: str


class JourneyInvalid(ValidationFailed):
    """A journey that cannot be searched; `problems` name each segment's field (the entry points
    turn them into their own parameter names: `journey_problem_errors`)."""

    def __init__(self, problems: Sequence[JourneyProblem]):
        self.problems = list(problems)
        super().__init__(
            "Invalid input.",
            errors={f"segment_{p.position}.{p.field}": [p.message] for p in self.problems},
        )


@dataclass(frozen=True, slots=True)
class JourneyFlight:
    """A bookable flight of a segment: its search row (apps/flights/selectors.py: FLIGHT_ROW_FIELDS)
    and its price for all passengers in the cheapest cabin with room for them all."""

    row: dict[str, Any]
    cabin: str
    price: Decimal  # for all passengers
    currency: str

    @property
    def id(self) -> int:
        return self.row["id"]

    @property
    def departure_time(self) -> datetime:
        return self.row["departure_time"]

    @property
    def arrival_time(self) -> datetime:
        return self.row["arrival_time"]


@dataclass(frozen=True, slots=True)
class JourneySegment:
    position: int
    query: JourneySegmentQuery
    flights: list[JourneyFlight]  # by departure time


@dataclass(frozen=True, slots=True)
class JourneyTotal:
    amount: Decimal
    currency: str
    flight_ids: tuple[int, ...]  # one per segment, in segment order


@dataclass(frozen=True, slots=True)
class Journey:
    trip: TripKind
    passengers: int
    segments: list[JourneySegment]
    cheapest_total: JourneyTotal | None  # None: no choice keeps the connection rule
    hits: list[bool] = field(default_factory=list)  # per segment: answered from the cache


def journey_problems(
    *, trip: TripKind, segments: Sequence[JourneySegmentQuery], passengers: int
) -> list[JourneyProblem]:
    """What is wrong with a journey before it is searched: the number of segments for its kind, a
    return that is not the outbound reversed, a segment whose origin and destination share an
    airport, a date out of the searchable range or before the previous segment's date."""
    problems: list[JourneyProblem] = []
    low, high = SEGMENTS_PER_TRIP[trip]
    if not low <= len(segments) <= high:
        many = f"{low} to {high} flights" if low != high else f"{low} flight{'s' * (low > 1)}"
        return [JourneyProblem(min(len(segments) + 1, high + 1), "origin", f"This trip has {many}.")]
    if not 1 <= passengers <= MAX_PARTY_SIZE:
        problems.append(JourneyProblem(0, "passengers", f"Must be from 1 to {MAX_PARTY_SIZE}."))
    if trip == TripKind.RETURN and (
        segments[1].origin.codes != segments[0].destination.codes
        or segments[1].destination.codes != segments[0].origin.codes
    ):
        problems.append(JourneyProblem(2, "origin", "A return flies the outbound route back."))
    for position, segment in enumerate(segments, start=1):
        if set(segment.origin.codes) & set(segment.destination.codes):
            problems.append(
                JourneyProblem(position, "destination", "The destination must differ from the origin.")
            )
        if not trip_date_searchable(segment.day):
            problems.append(
                JourneyProblem(position, "date", f"Must be within {TRIP_DATE_MAX_YEARS_AWAY} years of today.")
            )
        elif position > 1 and segment.day < segments[position - 2].day:
            problems.append(
                JourneyProblem(
                    position,
                    "date",
                    "The return must not be before the departure."
                    if trip == TripKind.RETURN
                    else f"Must not be before flight {position - 1}'s date.",
                )
            )
    return problems


def journey_search(*, trip: TripKind, segments: Sequence[JourneySegmentQuery], passengers: int) -> Journey:
    """Each segment's bookable flights and the cheapest total that keeps the connection rule.

    Each segment is the one-way search of its route and date for `passengers` seats, cached under
    the catalogue version (no query when cached). Raises JourneyInvalid (400) naming each refused
    segment field (`journey_problems`).
    """
    problems = journey_problems(trip=trip, segments=segments, passengers=passengers)
    if problems:
        raise JourneyInvalid(problems)
    found: list[JourneySegment] = []
    hits: list[bool] = []
    for position, query in enumerate(segments, start=1):
        flights, hit = _segment_flights(query, passengers)
        found.append(JourneySegment(position=position, query=query, flights=flights))
        hits.append(hit)
    return Journey(
        trip=trip,
        passengers=passengers,
        segments=found,
        cheapest_total=journey_cheapest_total([segment.flights for segment in found]),
        hits=hits,
    )


def journey_cheapest_total(segments: Sequence[Sequence[JourneyFlight]]) -> JourneyTotal | None:
    """The cheapest choice of one flight per segment in which each flight keeps the connection rule
    with the one before, or None when there is none. A total adds prices of one currency only.

    Cheapest path through the segments, segment by segment: for each flight, the cheapest way to
    reach it (O(sum of n_k × n_k+1) connection checks, a few thousand at most).
    """
    if not segments:
        return None
    currencies = {flight.currency for flights in segments for flight in flights}
    best: JourneyTotal | None = None
    for currency in sorted(currencies):
        reach: list[tuple[Decimal, tuple[JourneyFlight, ...]]] = [
            (flight.price, (flight,)) for flight in segments[0] if flight.currency == currency
        ]
        for flights in segments[1:]:
            following = []
            for flight in flights:
                if flight.currency != currency:
                    continue
                options = [
                    (amount + flight.price, (*path, flight))
                    for amount, path in reach
                    if journey_connection_problem(path[-1], flight) is None
                ]
                if options:
                    following.append(min(options, key=lambda option: option[0]))
            reach = following
        if reach:
            amount, path = min(reach, key=lambda option: option[0])
            total = JourneyTotal(amount=amount, currency=currency, flight_ids=tuple(f.id for f in path))
            # Amounts of different currencies are not compared: the first currency found wins.
            best = best or total
    return best


def _segment_flights(query: JourneySegmentQuery, passengers: int) -> tuple[list[JourneyFlight], bool]:
    """A segment's bookable flights, through the search cache (and whether it was a hit); a miss reads
    a healthy replica when there is one, as one-way search does (apps/core/db_router.py)."""
    criteria = FlightSearchCriteria(
        departure_codes=query.origin.codes,
        arrival_codes=query.destination.codes,
        travellers=passengers,
        trip_date=query.day,
    )
    token = search_token(
        scope="journey:segment",
        criteria_token=criteria.cache_token(),
        page="1",
        page_size=SEGMENT_MAX_FLIGHTS,
    )

    def search() -> list[JourneyFlight]:
        rows = flight_search_page(criteria=criteria, page=1, page_size=SEGMENT_MAX_FLIGHTS).rows
        return _priced(rows, passengers)

    return cached_search(token, lambda: catalogue_read(search))


def _priced(rows: list[dict[str, Any]], passengers: int) -> list[JourneyFlight]:
    """The rows that can seat all `passengers`, each priced in its cheapest cabin with room for them
    all (one query for the rows' seat marks; each airplane's layout is read once per process). A
    flight with no one cabin of that room is priced as a hold would spread them, cheapest cabin first."""
    if not rows:
        return []
    seats = {
        flight_id: (airplane_id, updated_at, taken)
        for flight_id, airplane_id, updated_at, taken in Flight.objects.filter(
            pk__in=[row["id"] for row in rows]
        ).values_list("id", "airplane_id", "airplane__updated_at", "seats_taken")
    }
    priced = []
    for row in rows:
        if row["id"] not in seats:  # deleted since the search read it
            continue
        airplane_id, updated_at, taken = seats[row["id"]]
        free = cabin_free_counts(airplane_layout(airplane_id, updated_at), taken)
        fares = sorted(
            (row[fare_field], cabin)
            for cabin, fare_field in CABIN_FARE_FIELDS.items()
            if row[fare_field] is not None and free.get(cabin, 0) > 0
        )
        roomy = [(fare, cabin) for fare, cabin in fares if free[cabin] >= passengers]
        if roomy:
            fare, cabin = roomy[0]
            price = fare * passengers
        elif sum(free[cabin] for _, cabin in fares) >= passengers:
            price, left, cabin = Decimal("0"), passengers, fares[0][1]
            for fare, each in fares:
                taking = min(left, free[each])
                price, left = price + fare * taking, left - taking
        else:
            continue  # not enough seats in the cabins it sells
        priced.append(JourneyFlight(row=row, cabin=cabin, price=price, currency=row["currency"]))
    return priced


def journey_problem_errors(
    problems: Sequence[JourneyProblem], name_of: Callable[[int, str], str]
) -> dict[str, list[str]]:
    """The problems as field errors, each under the name `name_of(position, field)` gives a
    segment's field (a journey's own field keeps its name)."""
    errors: dict[str, list[str]] = {}
    for problem in problems:
        name = name_of(problem.position, problem.field) if problem.position else problem.field
        errors.setdefault(name, []).append(problem.message)
    return errors
