"""The benchmark's own data and the invariants checked after each measurement (Django ORM).

Runs in the orchestrating process (bench.run) against the bench database, never the server's
process. Airplanes go through the catalogue service (so capacities are the layout's); the many
flights are bulk-inserted with `total_seats = available_seats = capacity`, as `flight_create` does.
"""

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db.models import Count, Q
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.services import auth_session_start
from apps.bookings.models import Booking
from apps.bookings.selectors import inventory_violations
from apps.bookings.services import booking_hold_create
from apps.flights.models import Airplane, Airport, City, Flight
from apps.flights.search_cache import catalogue_version_bump
from apps.flights.services import airplane_create
from apps.payments.models import GatewayCharge, Payment

IST = ZoneInfo("Asia/Kolkata")
AIRPORTS = {  # IATA: (name, city, latitude, longitude)
    "BOM": ("Chhatrapati Shivaji Maharaj International Airport", "Mumbai", 19.0887, 72.8679),
    "DEL": ("Indira Gandhi International Airport", "Delhi", 28.5665, 77.1031),
    "BLR": ("Kempegowda International Airport", "Bengaluru", 13.1979, 77.7063),
    "MAA": ("Chennai International Airport", "Chennai", 12.9900, 80.1693),
    "CCU": ("Netaji Subhas Chandra Bose International Airport", "Kolkata", 22.6547, 88.4467),
    "HYD": ("Rajiv Gandhi International Airport", "Hyderabad", 17.2403, 78.4294),
}
SEAT_LETTERS = "ABCDEFGHJK"  # ten abreast: a layout of R rows has 10 R seats
SEARCH_DAYS = 33
POPULAR_ROUTE = ("BOM", "DEL")
POPULAR_EXTRA_FLIGHTS = 4  # the popular route and day have 1 + 4 flights
SEARCH_PRICE_RANGE = "1000-100000"  # covers every fare below (1,500–19,500)

_numbers = itertools.count(1)


def _flight_number() -> str:
    return f"BX{next(_numbers) % 10_000}"


@dataclass(frozen=True)
class Catalogue:
    airports: dict[str, Airport]
    search_day: str  # the popular query's tripDate
    search_query: dict[str, str]


def catalogue_prepare(now: datetime) -> Catalogue:
    """Six airports and ~1,000 flights over 33 days, like the reference search's catalogue.

    Every ordered pair of airports has one flight a day; the popular route (BOM-DEL) has five on
    the search day, so the popular query answers five flights with airplanes, airports and cities.
    """
    airports = airports_prepare()
    airplane = airplane_make(rows=30, letters="ABCDEF")
    first_day = (now + timedelta(days=20)).astimezone(IST).replace(hour=6, minute=0, second=0, microsecond=0)
    search_day = first_day + timedelta(days=SEARCH_DAYS // 2)
    flights = []
    for day in range(SEARCH_DAYS):
        for offset, (origin, destination) in enumerate(itertools.permutations(AIRPORTS, 2)):
            departure = first_day + timedelta(days=day, minutes=offset * 7)
            flights.append(_flight(airplane, airports[origin], airports[destination], departure, offset))
    for extra in range(1, POPULAR_EXTRA_FLIGHTS + 1):
        departure = search_day + timedelta(hours=2 * extra)
        flights.append(_flight(airplane, airports["BOM"], airports["DEL"], departure, extra))
    Flight.objects.bulk_create(flights, batch_size=500)
    catalogue_version_bump()
    trip_date = search_day.date().isoformat()
    return Catalogue(
        airports=airports,
        search_day=trip_date,
        search_query={
            "trips": "-".join(POPULAR_ROUTE),
            "tripDate": trip_date,
            "price": SEARCH_PRICE_RANGE,
            "travellers": "1",
            "sort": "price_asc",
        },
    )


def airports_prepare() -> dict[str, Airport]:
    """The six airports (and their cities) the bench flies between, created if missing."""
    airports = {}
    for code, (name, city_name, latitude, longitude) in AIRPORTS.items():
        city, _ = City.objects.get_or_create(name=city_name, country="IN")
        airports[code], _ = Airport.objects.get_or_create(
            iata_code=code,
            defaults={
                "name": name,
                "city": city,
                "time_zone": "Asia/Kolkata",
                "latitude": latitude,
                "longitude": longitude,
            },
        )
    return airports


def airplane_make(*, rows: int, letters: str = SEAT_LETTERS) -> Airplane:
    """An all-economy airplane of `rows` × `letters` seats, created through the catalogue service."""
    return airplane_create(
        model_name="Bench",
        registration=f"VT-B{next(_numbers):05d}"[-10:],
        cabin_sections=[{"cabin": "economy", "first_row": 1, "last_row": rows, "seat_letters": letters}],
    )


def _flight(airplane: Airplane, origin: Airport, destination: Airport, departure: datetime, n: int) -> Flight:
    return Flight(
        flight_number=_flight_number(),
        airplane=airplane,
        departure_airport=origin,
        arrival_airport=destination,
        departure_time=departure,
        arrival_time=departure + timedelta(hours=2, minutes=10),
        currency="INR",
        base_fare=Decimal(1500 + 500 * (n % 37)),
        total_seats=airplane.capacity,
        available_seats=airplane.capacity,
    )


def flights_make(
    airports: dict[str, Airport],
    *,
    count: int,
    seats: int,
    origin: str = "BLR",
    destination: str = "HYD",
    days: int = 10,
) -> list[int]:
    """`count` new flights of `seats` seats (a multiple of 10) on a route outside the search, leaving
    `days` from now, a minute apart."""
    airplane = airplane_make(rows=seats // len(SEAT_LETTERS))
    start = timezone.now() + timedelta(days=days)
    flights = [
        _flight(
            airplane,
            airports[origin],
            airports[destination],
            start + timedelta(minutes=index),
            index,
        )
        for index in range(count)
    ]
    created = Flight.objects.bulk_create(flights, batch_size=500)
    catalogue_version_bump()
    return [flight.pk for flight in created]


def journey_flights_make(airports: dict[str, Airport], *, count: int, seats: int) -> list[int]:
    """`count` return trips outside the search: an outbound BLR→HYD and its return HYD→BLR two days
    later, as [outbound, return, outbound, return, …] (journey.lua books them in pairs)."""
    outbound = flights_make(airports, count=count, seats=seats)
    back = flights_make(airports, count=count, seats=seats, origin="HYD", destination="BLR", days=12)
    return [flight_id for pair in zip(outbound, back, strict=True) for flight_id in pair]


def users_make(count: int) -> list[User]:
    """`count` customers with unusable passwords (the bench signs them in with minted tokens)."""
    first = next(_numbers)
    users = [
        User(
            email=f"bench-{first}-{index}@bench.example", name=f"Bench {index}", password=make_password(None)
        )
        for index in range(count)
    ]
    return User.objects.bulk_create(users)


def access_tokens(users: list[User]) -> list[str]:
    """A fresh JWT access token per user, each of a new sign-in session (valid ACCESS_TOKEN_LIFETIME:
    mint them per run)."""
    return [str(auth_session_start(user=user).access_token) for user in users]


def payable_bookings(users: list[User], tokens: list[str], flight_ids: list[int]) -> list[dict[str, str]]:
    """One held booking per flight id, owned in turn by `users`, for the payment storm."""
    bookings = []
    for index, flight_id in enumerate(flight_ids):
        user, token = users[index % len(users)], tokens[index % len(tokens)]
        booking = booking_hold_create(
            user=user, flight_id=flight_id, passengers=[{"first_name": "Pay", "last_name": "Storm"}]
        )
        bookings.append(
            {
                "reference": booking.reference,
                "amount": f"{booking.total_amount:.2f}",
                "currency": booking.currency,
                "token": token,
            }
        )
    return bookings


def inventory_check(
    flight_ids: list[int], *, bookings_answered: int, all_counted: bool = True, segments: int = 1
) -> dict[str, object]:
    """After a booking measurement: the flights' counters, seats and bookings agree.

    `bookings_answered` is the number of 201s the clients saw: each must be exactly one booking in
    the database, and every booking one active seat (one passenger each) on each of its `segments`
    flights (a return trip: 2). `all_counted` False: a wrk
    thread never reported (bench/wrk_load.py: its numbers are lost), so the 201s counted are a lower
    bound; the database may hold the uncounted ones (`uncounted`), never fewer than counted.
    """
    flights = Flight.objects.filter(pk__in=flight_ids).annotate(
        sold=Count("seat_assignments", filter=Q(seat_assignments__active=True))
    )
    total = sum(flight.total_seats for flight in flights)
    sold = sum(flight.sold for flight in flights)
    available = sum(flight.available_seats for flight in flights)
    oversold = sum(max(0, flight.sold - flight.total_seats) for flight in flights)
    bookings = Booking.objects.filter(flight_id__in=flight_ids, segment_count=segments).count()
    violations = [v.flight_id for v in inventory_violations() if v.flight_id in set(flight_ids)]
    return {
        "flights": len(flight_ids),
        "seats": total,
        "sold": sold,
        "available": available,
        "oversold": oversold,
        "bookings_in_db": bookings,
        "bookings_answered": bookings_answered,
        "uncounted": 0 if all_counted else bookings - bookings_answered,
        "inventory_violations": violations,
        "sold_out": available == 0,
        "ok": oversold == 0
        and not violations
        and (bookings == bookings_answered if all_counted else bookings >= bookings_answered)
        and bookings * segments == sold
        and available == total - sold,
    }


def charges_check(references: list[str]) -> dict[str, object]:
    """After a payment storm: every booking has exactly one succeeded charge in the gateway's ledger."""
    per_booking = {}
    for reference in references:
        keys = Payment.objects.filter(booking__reference=reference).values_list(
            "gateway_idempotency_key", flat=True
        )
        per_booking[reference] = GatewayCharge.objects.filter(
            idempotency_key__in=list(keys), status=GatewayCharge.Status.SUCCEEDED
        ).count()
    confirmed = Booking.objects.filter(reference__in=references, status=Booking.Status.CONFIRMED).count()
    counts = sorted(set(per_booking.values()))
    return {
        "bookings": len(references),
        "charges_per_booking": counts,
        "confirmed": confirmed,
        "ok": counts == [1] and confirmed == len(references),
    }
