"""The journey search service (apps/flights/journeys.py): segments, prices, the connection rule."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from apps.flights.journeys import (
    JourneyInvalid,
    JourneySegmentQuery,
    TripKind,
    journey_connection_problem,
    journey_search,
)
from apps.flights.models import Flight
from apps.flights.places import place_resolve
from apps.flights.seating import seats_marked
from apps.flights.tests.conftest import at
from apps.flights.tests.factories import AirplaneFactory, AirportFactory, CityFactory, FlightFactory

pytestmark = pytest.mark.django_db

KOLKATA = "Asia/Kolkata"


def flight(number, origin, destination, day, hour, minute, fare, *, minutes=120, **fields) -> Flight:
    departs = at(day, hour, minute, KOLKATA)
    return FlightFactory(
        flight_number=number,
        departure_airport=origin,
        arrival_airport=destination,
        departure_time=departs,
        arrival_time=departs + timedelta(minutes=minutes),
        base_fare=Decimal(fare),
        **fields,
    )


def segment(origin: str, destination: str, day) -> JourneySegmentQuery:
    return JourneySegmentQuery(place_resolve(origin), place_resolve(destination), day)


@pytest.fixture
def blr(db):
    return AirportFactory(iata_code="BLR", name="Kempegowda", city=CityFactory(name="Bengaluru"))


def test_a_return_lists_each_way_and_totals_the_cheapest_pair_for_all_passengers(bom, delhi, trip_day):
    # given flights out on the day and back two days later
    flight("AI101", bom, delhi, trip_day, 6, 0, "5200.00")
    flight("AI205", bom, delhi, trip_day, 9, 30, "3900.00")
    back = trip_day + timedelta(days=2)
    flight("AI302", delhi, bom, back, 8, 0, "4100.00")
    flight("AI404", delhi, bom, back, 20, 0, "6000.00")

    # when a return for two is searched
    journey = journey_search(
        trip=TripKind.RETURN,
        segments=[segment("BOM", "DEL", trip_day), segment("DEL", "BOM", back)],
        passengers=2,
    )

    # then each segment lists its flights by departure, priced for both, and the total is the cheapest pair
    assert [[f.row["flight_number"] for f in s.flights] for s in journey.segments] == [
        ["AI101", "AI205"],
        ["AI302", "AI404"],
    ]
    assert [f.price for f in journey.segments[0].flights] == [Decimal("10400.00"), Decimal("7800.00")]
    assert {f.cabin for s in journey.segments for f in s.flights} == {"economy"}
    total = journey.cheapest_total
    assert (total.amount, total.currency) == (Decimal("16000.00"), "INR")
    assert [Flight.objects.get(pk=pk).flight_number for pk in total.flight_ids] == ["AI205", "AI302"]


def test_the_cheapest_total_keeps_the_connection_rule(bom, delhi, blr, trip_day):
    # given the cheapest second flight leaving 30 minutes after the cheapest first one lands
    flight("AI1", bom, delhi, trip_day, 6, 0, "3000.00")  # lands 08:00
    flight("AI2", bom, delhi, trip_day, 9, 0, "5000.00")  # lands 11:00
    flight("AI3", delhi, blr, trip_day, 8, 30, "2000.00")  # 30 min after AI1 lands
    flight("AI4", delhi, blr, trip_day, 12, 0, "4000.00")  # 4 h after AI1, 1 h after AI2

    # when a multi-city trip is searched
    journey = journey_search(
        trip=TripKind.MULTI_CITY,
        segments=[segment("BOM", "DEL", trip_day), segment("DEL", "BLR", trip_day)],
        passengers=1,
    )

    # then AI3 is listed but not in the total: AI1 + AI4 is the cheapest pair that connects
    assert len(journey.segments[1].flights) == 2
    assert journey.cheapest_total.amount == Decimal("7000.00")
    numbers = dict(Flight.objects.values_list("pk", "flight_number"))
    assert [numbers[pk] for pk in journey.cheapest_total.flight_ids] == ["AI1", "AI4"]


def test_no_total_when_no_pair_connects(bom, delhi, blr, trip_day):
    flight("AI1", bom, delhi, trip_day, 6, 0, "3000.00")
    flight("AI3", delhi, blr, trip_day, 7, 0, "2000.00")

    journey = journey_search(
        trip=TripKind.MULTI_CITY,
        segments=[segment("BOM", "DEL", trip_day), segment("DEL", "BLR", trip_day)],
        passengers=1,
    )

    assert [len(s.flights) for s in journey.segments] == [1, 1]
    assert journey.cheapest_total is None


def test_the_connection_rule_counts_minutes_from_landing_to_leaving(bom, delhi, trip_day):
    first = flight("AI1", bom, delhi, trip_day, 6, 0, "3000.00")  # lands 08:00
    exactly = flight("AI2", delhi, bom, trip_day, 8, 45, "3000.00")
    short = flight("AI3", delhi, bom, trip_day, 8, 44, "3000.00")
    before = flight("AI4", delhi, bom, trip_day, 7, 0, "3000.00")

    assert journey_connection_problem(first, exactly) is None
    assert journey_connection_problem(first, short) == (
        "It leaves 44 minutes after the previous flight lands; at least 45 are needed."
    )
    assert "before the previous flight lands" in journey_connection_problem(first, before)
    with override_settings(JOURNEY_MIN_CONNECTION_MINUTES=60):
        assert journey_connection_problem(first, exactly) is not None


def test_a_full_economy_prices_the_party_in_the_cheapest_cabin_with_room(bom, delhi, trip_day):
    # given a flight whose economy (rows 2–3, 12 seats) has one seat left, and business room for two
    airplane = AirplaneFactory(layout__rows=3, layout__business_rows=1, layout__letters="ABCDEF")
    full = flight("AI9", bom, delhi, trip_day, 6, 0, "3000.00", airplane=airplane)
    economy_positions = list(range(4, 15))  # 4 business seats first, then 11 of 12 economy seats
    Flight.objects.filter(pk=full.pk).update(
        seats_taken=seats_marked("", economy_positions, "1"), available_seats=16 - len(economy_positions)
    )

    one = journey_search(trip=TripKind.ONE_WAY, segments=[segment("BOM", "DEL", trip_day)], passengers=1)
    two = journey_search(trip=TripKind.ONE_WAY, segments=[segment("BOM", "DEL", trip_day)], passengers=2)

    assert [(f.cabin, f.price) for f in one.segments[0].flights] == [("economy", Decimal("3000.00"))]
    assert [(f.cabin, f.price) for f in two.segments[0].flights] == [("business", Decimal("30000.00"))]


def test_a_repeated_search_reads_its_segments_from_the_cache(bom, delhi, trip_day):
    flight("AI1", bom, delhi, trip_day, 6, 0, "3000.00")
    back = trip_day + timedelta(days=1)
    flight("AI2", delhi, bom, back, 6, 0, "3000.00")
    segments = [segment("BOM", "DEL", trip_day), segment("DEL", "BOM", back)]

    first = journey_search(trip=TripKind.RETURN, segments=segments, passengers=1)
    with CaptureQueriesContext(connection) as queries:
        second = journey_search(trip=TripKind.RETURN, segments=segments, passengers=1)

    assert (first.hits, second.hits) == ([False, False], [True, True])
    assert len(queries) == 0
    assert second.cheapest_total == first.cheapest_total


def test_refused_journeys_name_the_segment_and_field(bom, delhi, trip_day):
    cases = [
        (
            TripKind.RETURN,
            [segment("BOM", "DEL", trip_day), segment("DEL", "BOM", trip_day - timedelta(days=1))],
            {(2, "date")},
        ),
        (TripKind.MULTI_CITY, [segment("BOM", "DEL", trip_day)], {(2, "origin")}),
        (
            TripKind.MULTI_CITY,
            [segment("BOM", "DEL", trip_day), segment("DEL", "Mumbai", trip_day + timedelta(days=3000))],
            {(2, "date")},
        ),
        (
            TripKind.MULTI_CITY,
            [segment("BOM", "DEL", trip_day), segment("DEL", "delhi", trip_day)],
            {(2, "destination")},
        ),
    ]
    for trip, segments, expected in cases:
        with pytest.raises(JourneyInvalid) as refused:
            journey_search(trip=trip, segments=segments, passengers=1)
        assert {(p.position, p.field) for p in refused.value.problems} == expected, (trip, segments)
