"""A realistic demo catalogue: real airports, a fleet with real layouts, a month of flights.

Airports, cities and time zones come from the `airportsdata` package. The schedule is a fixed
network of routes, each flown at the same local times every day, with durations from the
great-circle distance and fares in INR from distance, time of day, weekday and days to departure.
Everything is derived from a seeded random generator, so two runs build the same catalogue; rows
that exist already (cities by name, airports by code, airplanes by registration, flights by number
and departure time) are left alone, so a second run adds nothing. The schedule does not model
aircraft rotations: an airplane may fly two routes at once.
"""

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import airportsdata
from django.db import transaction
from django.utils import timezone

from apps.flights.models import Airplane, Airport, Cabin, CabinSection, City, FareFamily, Flight
from apps.flights.search_cache import catalogue_changed

SEED = 20260101
BATCH_SIZE = 1000

# Busy airports on every continent; the Indian ones carry most of the network.
INDIAN_METROS = ["BOM", "DEL", "BLR", "MAA", "CCU", "HYD"]
INDIAN_CITIES = ["AMD", "COK", "GOI", "PNQ", "JAI", "LKO", "GAU", "TRV"]
WORLD_AIRPORTS = [
    "DXB", "DOH", "AUH", "SIN", "BKK", "KUL", "HKG", "NRT", "ICN", "PVG", "SYD", "MEL",
    "LHR", "LGW", "CDG", "FRA", "AMS", "MAD", "FCO", "IST", "ZRH", "MUC",
    "JFK", "EWR", "LGA", "LAX", "ORD", "SFO", "ATL", "YYZ", "GRU", "MEX", "DFW",
    "JNB", "NBO", "CAI", "ADD",
]  # fmt: skip
AIRPORT_CODES = INDIAN_METROS + INDIAN_CITIES + WORLD_AIRPORTS
# The user development fee each Indian metro adds to a departing passenger's fare (illustrative
# amounts of the size Indian airports charge domestic travellers), in rupees.
DEMO_AIRPORT_CHARGES = {"BOM": "175.00", "DEL": "620.00", "BLR": "306.00", "MAA": "180.00", "HYD": "424.00"}
# The demo's fare families, with rules like Indian carriers' (docs/FARES.md): the Saver is the
# cabin's fare column, the Flex costs FLEX_MARKUP more; Business Flex is the business fare.
DEMO_FARE_FAMILIES = [
    {
        "code": "ECO_SAVER", "name": "Economy Saver", "cabin": Cabin.ECONOMY, "display_order": 1,
        "cabin_bag_kg": 7, "checked_bags": 1, "checked_bag_kg": 15,
        "refund_rule": FareFamily.RefundRule.NONE, "refund_fee": Decimal("0"),
        "change_allowed": True, "change_fee": Decimal("3000.00"),
    },
    {
        "code": "ECO_FLEX", "name": "Economy Flex", "cabin": Cabin.ECONOMY, "display_order": 2,
        "cabin_bag_kg": 7, "checked_bags": 1, "checked_bag_kg": 25,
        "refund_rule": FareFamily.RefundRule.FEE, "refund_fee": Decimal("1500.00"),
        "change_allowed": True, "change_fee": Decimal("0"),
    },
    {
        "code": "BUS_FLEX", "name": "Business Flex", "cabin": Cabin.BUSINESS, "display_order": 3,
        "cabin_bag_kg": 10, "checked_bags": 2, "checked_bag_kg": 32,
        "refund_rule": FareFamily.RefundRule.FULL, "refund_fee": Decimal("0"),
        "change_allowed": True, "change_fee": Decimal("0"),
    },
]  # fmt: skip
FLEX_MARKUP = 1.35

# airportsdata names some cities after the airport's municipality; travellers search the city.
CITY_NAMES = {
    "DEL": "Delhi",
    "BLR": "Bengaluru",
    "COK": "Kochi",
    "GOI": "Goa",
    "TRV": "Thiruvananthapuram",
    "IST": "Istanbul",
    "YYZ": "Toronto",
    "DFW": "Dallas",
    "FRA": "Frankfurt",
    "EWR": "New York",  # Newark serves New York: a search from New York covers JFK, EWR and LGA
}

# Names travellers still search by (City.alternative_names; apps/flights/places.py matches them).
CITY_ALTERNATIVE_NAMES = {
    "Mumbai": ["Bombay"],
    "Bengaluru": ["Bangalore"],
    "Kolkata": ["Calcutta"],
    "Chennai": ["Madras"],
    "Delhi": ["New Delhi"],
    "Kochi": ["Cochin"],
    "Thiruvananthapuram": ["Trivandrum"],
    "Pune": ["Poona"],
    "New York": ["NYC", "Newark"],
    "London": ["LON"],
}

# Layouts as (cabin, first_row, last_row, seat letters).
Section = tuple[str, int, int, str]
FLEET_TYPES: dict[str, list[Section]] = {
    "Airbus A320": [(Cabin.ECONOMY, 1, 30, "ABCDEF")],  # 180
    "Boeing 737-800": [(Cabin.ECONOMY, 1, 31, "ABCDEF"), (Cabin.ECONOMY, 32, 32, "DEF")],  # 189
    "Airbus A321neo": [(Cabin.BUSINESS, 1, 2, "ACDF"), (Cabin.ECONOMY, 3, 36, "ABCDEF")],  # 212
    "Boeing 787-9": [  # 296: business 1-2-1, premium economy 2-3-2, economy 3-3-3
        (Cabin.BUSINESS, 1, 8, "ADGK"),
        (Cabin.PREMIUM_ECONOMY, 20, 24, "ACDEFHK"),
        (Cabin.ECONOMY, 30, 54, "ABCDEFGHK"),
    ],
    "Boeing 777-300ER": [  # 338: first and business 1-2-1, premium economy 2-4-2, economy 3-4-3
        (Cabin.FIRST, 1, 2, "AEFK"),
        (Cabin.BUSINESS, 5, 11, "ADGK"),
        (Cabin.PREMIUM_ECONOMY, 15, 18, "ABDEFGJK"),
        (Cabin.ECONOMY, 20, 46, "ABCDEFGHJK"),
    ],
}
FLEET: list[tuple[str, str, int]] = [  # (model, registration prefix, how many)
    ("Airbus A320", "VT-EX", 10),
    ("Boeing 737-800", "VT-BX", 6),
    ("Airbus A321neo", "VT-NX", 6),
    ("Boeing 787-9", "VT-WX", 5),
    ("Boeing 777-300ER", "VT-LX", 4),
]


@dataclass(frozen=True, slots=True)
class Route:
    origin: str
    destination: str
    daily: int  # departures per day
    carrier: str


def _routes() -> list[Route]:
    routes: list[Route] = []

    def both_ways(a: str, b: str, daily: int, carrier: str = "AI") -> None:
        routes.append(Route(a, b, daily, carrier))
        routes.append(Route(b, a, daily, carrier))

    for i, a in enumerate(INDIAN_METROS):
        for b in INDIAN_METROS[i + 1 :]:
            both_ways(a, b, 10 if {a, b} == {"BOM", "DEL"} else 4)
    for city in INDIAN_CITIES:
        for hub in ("BOM", "DEL", "BLR"):
            both_ways(hub, city, 2)
    international = {
        "DXB": 3, "DOH": 2, "AUH": 2, "SIN": 2, "BKK": 1, "KUL": 1, "HKG": 1, "NRT": 1, "SYD": 1,
        "LHR": 2, "FRA": 1, "CDG": 1, "AMS": 1, "IST": 1, "JFK": 1, "SFO": 1, "JNB": 1, "NBO": 1,
    }  # fmt: skip
    for hub in ("BOM", "DEL"):
        for destination, daily in international.items():
            both_ways(hub, destination, daily)
    for metro in ("BLR", "MAA", "HYD", "CCU"):
        both_ways(metro, "DXB", 1)
        both_ways(metro, "SIN", 1)
    world = [
        ("LHR", "JFK", 4), ("LGW", "JFK", 1), ("LHR", "EWR", 2), ("LGW", "LGA", 1), ("CDG", "JFK", 2),
        ("FRA", "ORD", 1), ("AMS", "JFK", 1), ("MAD", "MEX", 1),
        ("MAD", "GRU", 1), ("LHR", "SIN", 1), ("SIN", "SYD", 2), ("SIN", "HKG", 3), ("HKG", "NRT", 2),
        ("ICN", "NRT", 3), ("PVG", "NRT", 2), ("SYD", "MEL", 6), ("LAX", "SFO", 5), ("LAX", "JFK", 4),
        ("ORD", "ATL", 3), ("ATL", "DFW", 3), ("DFW", "LAX", 2), ("YYZ", "JFK", 3), ("DXB", "JNB", 1),
        ("CAI", "DXB", 2), ("DOH", "NBO", 1), ("IST", "LHR", 3), ("ZRH", "JFK", 1), ("MUC", "FCO", 2),
        ("FCO", "CDG", 3), ("ADD", "NBO", 2), ("BKK", "SIN", 3), ("KUL", "SIN", 4), ("LHR", "MAD", 3),
    ]  # fmt: skip
    for a, b, daily in world:
        both_ways(a, b, daily, carrier="AX")
    return routes


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def flight_minutes(distance_km: float) -> int:
    """Block time: 40 minutes of taxi, climb and descent plus cruise at 800 km/h, in 5-minute steps."""
    return int(round((40 + distance_km / 800 * 60) / 5) * 5)


def _base_fare(distance_km: float, domestic: bool) -> float:
    if domestic:
        return 1500 + 4.0 * distance_km
    if distance_km < 4000:
        return 3000 + 5.0 * distance_km
    return 8000 + 3.2 * distance_km


def _money(amount: float) -> Decimal:
    return Decimal(int(round(amount / 10)) * 10).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class LoadResult:
    cities: int
    airports: int
    airplanes: int
    flights: int


def _load_places() -> tuple[int, int, dict[str, Airport]]:
    data = airportsdata.load("IATA")
    cities_created = airports_created = 0
    airports: dict[str, Airport] = {}
    for code in AIRPORT_CODES:
        row = data[code]
        name = CITY_NAMES.get(code, row["city"])
        city, created = City.objects.get_or_create(
            name=name,
            country=row["country"],
            defaults={"alternative_names": "\n".join(CITY_ALTERNATIVE_NAMES.get(name, []))},
        )
        cities_created += created
        airport, created = Airport.objects.get_or_create(
            iata_code=code,
            defaults={
                "name": row["name"],
                "city": city,
                "time_zone": row["tz"],
                "latitude": row["lat"],
                "longitude": row["lon"],
                **(
                    {
                        "departure_charge_name": "User development fee",
                        "departure_charge": Decimal(DEMO_AIRPORT_CHARGES[code]),
                        "departure_charge_currency": "INR",
                    }
                    if code in DEMO_AIRPORT_CHARGES
                    else {}
                ),
            },
        )
        airports_created += created
        airports[code] = airport
    return cities_created, airports_created, airports


def _load_fleet() -> tuple[int, dict[str, list[Airplane]]]:
    created_count = 0
    fleet: dict[str, list[Airplane]] = {}
    for model_name, prefix, count in FLEET:
        for number in range(count):
            registration = f"{prefix}{chr(ord('A') + number)}"
            airplane = Airplane.objects.filter(registration=registration).first()
            if airplane is None:
                airplane = Airplane.objects.create(model_name=model_name, registration=registration)
                sections = CabinSection.objects.bulk_create(
                    CabinSection(
                        airplane=airplane, cabin=cabin, first_row=first, last_row=last, seat_letters=letters
                    )
                    for cabin, first, last, letters in FLEET_TYPES[model_name]
                )
                airplane.capacity = sum(section.seat_count for section in sections)
                airplane.save(update_fields=["capacity"])
                created_count += 1
            fleet.setdefault(model_name, []).append(airplane)
    return created_count, fleet


def _fleet_for(distance_km: float, route: Route, fleet: dict[str, list[Airplane]]) -> list[Airplane]:
    if {route.origin, route.destination} == {"BOM", "DEL"}:
        return fleet["Airbus A321neo"]
    if distance_km < 2500:
        return fleet["Airbus A320"] + fleet["Boeing 737-800"] + fleet["Airbus A321neo"]
    if distance_km < 7500:
        return fleet["Boeing 787-9"]
    return fleet["Boeing 777-300ER"]


def _schedule(
    *, airports: dict[str, Airport], fleet: dict[str, list[Airplane]], start: date, days: int, now: datetime
) -> Iterator[Flight]:
    rng = random.Random(SEED)
    cabins_of = {
        airplane.pk: {section[0] for section in FLEET_TYPES[airplane.model_name]}
        for airplanes in fleet.values()
        for airplane in airplanes
    }
    next_number = {"AI": 101, "AX": 101}
    for route in _routes():
        origin, destination = airports[route.origin], airports[route.destination]
        distance = great_circle_km(
            origin.latitude, origin.longitude, destination.latitude, destination.longitude
        )
        domestic = origin.city.country == destination.city.country == "IN"
        minutes = flight_minutes(distance)
        pool = _fleet_for(distance, route, fleet)
        zone = ZoneInfo(origin.time_zone)
        for slot in range(route.daily):
            # Departures spread from 05:30 to 23:30 local time, at the same time every day.
            spread = 18 * 60 // route.daily
            local_minute = 5 * 60 + 30 + slot * spread + rng.randrange(0, max(spread - 10, 1), 5)
            departs_at = time(local_minute // 60 % 24, local_minute % 60)
            flight_number = f"{route.carrier}{next_number[route.carrier]}"
            next_number[route.carrier] += 1
            airplane = pool[rng.randrange(len(pool))]
            gate = f"{rng.choice('ABCDE')}{rng.randint(1, 40)}"
            peak = 1.25 if 6 <= departs_at.hour < 10 or 17 <= departs_at.hour < 21 else 1.0
            slot_base = _base_fare(distance, domestic) * peak * rng.uniform(0.85, 1.15)
            for day in range(days):
                departure = datetime.combine(start + timedelta(days=day), departs_at, tzinfo=zone).astimezone(
                    ZoneInfo("UTC")
                )
                if departure <= now:
                    continue
                days_ahead = (departure - now).days
                weekend = 1.1 if departure.astimezone(zone).weekday() >= 4 else 1.0
                late_booking = 1.0 + max(0, 14 - days_ahead) * 0.02
                base = slot_base * weekend * late_booking
                cabins = cabins_of[airplane.pk]
                business = _money(base * (3.5 if domestic else 4.2)) if Cabin.BUSINESS in cabins else None
                families = {
                    "ECO_SAVER": {"cabin": Cabin.ECONOMY, "price": str(_money(base))},
                    "ECO_FLEX": {"cabin": Cabin.ECONOMY, "price": str(_money(base * FLEX_MARKUP))},
                }
                if business is not None:
                    families["BUS_FLEX"] = {"cabin": Cabin.BUSINESS, "price": str(business)}
                yield Flight(
                    flight_number=flight_number,
                    airplane=airplane,
                    departure_airport=origin,
                    arrival_airport=destination,
                    departure_time=departure,
                    arrival_time=departure + timedelta(minutes=minutes),
                    currency="INR",
                    base_fare=_money(base),
                    premium_economy_fare=_money(base * 1.9) if Cabin.PREMIUM_ECONOMY in cabins else None,
                    business_fare=business,
                    first_fare=_money(base * 8) if Cabin.FIRST in cabins else None,
                    family_fares=families,
                    gate=gate,
                    status=Flight.Status.SCHEDULED,
                    total_seats=airplane.capacity,
                    available_seats=airplane.capacity,
                )


def demo_data_load(
    *,
    days: int = 30,
    start: date | None = None,
    progress: Callable[[str], None] = lambda message: None,
    flights_added: Callable[[int, int], None] = lambda added, missing: None,
) -> LoadResult:
    """Load the demo catalogue: flights on `days` local dates from `start` (default: today, UTC).

    Idempotent: existing rows are kept and only missing ones are inserted (flights in batches),
    so a second run adds nothing. Flights that would already have departed are skipped.
    `progress` hears each stage in a sentence; `flights_added(added, missing)` after each batch.
    """
    now = timezone.now()
    start = start or now.date()
    with transaction.atomic():
        cities, airports_created, airports = _load_places()
        airplanes, fleet = _load_fleet()
        for family in DEMO_FARE_FAMILIES:
            FareFamily.objects.get_or_create(code=family["code"], defaults=family)
        catalogue_changed()
    progress(
        f"Places: {cities} cities and {airports_created} airports added ({len(airports)} in the network)."
    )
    progress(f"Fleet: {airplanes} airplanes added ({sum(len(p) for p in fleet.values())} in the fleet).")

    candidates = list(_schedule(airports=airports, fleet=fleet, start=start, days=days, now=now))
    if not candidates:
        return LoadResult(cities, airports_created, airplanes, 0)
    existing = set(
        Flight.objects.filter(
            departure_time__gte=min(f.departure_time for f in candidates),
            departure_time__lte=max(f.departure_time for f in candidates),
        ).values_list("flight_number", "departure_time")
    )
    missing = [f for f in candidates if (f.flight_number, f.departure_time) not in existing]
    for offset in range(0, len(missing), BATCH_SIZE):
        with transaction.atomic():
            Flight.objects.bulk_create(missing[offset : offset + BATCH_SIZE])
            catalogue_changed()
        flights_added(min(offset + BATCH_SIZE, len(missing)), len(missing))
    progress(f"Flights: {len(candidates) - len(missing)} of {len(candidates)} were already there.")
    return LoadResult(cities, airports_created, airplanes, len(missing))
