"""Races of journeys (several flights in one booking) against single flights, on real threads and
MariaDB, for both locking strategies: every seat is sold once, and a journey refused on one flight
holds nothing on the others."""

from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.selectors import inventory_violations
from apps.bookings.services import booking_cancel, booking_hold_create
from apps.bookings.tests.factories import booking_flight, hold, passengers
from apps.bookings.tests.racing import outcome_counts, race

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

SEATS = 6  # per flight: one row of A–F


def journey(user, flights):
    return booking_hold_create(
        user=user, passengers=passengers(1), segments=[{"flight_id": flight.pk} for flight in flights]
    )


def _small_flight(departs):
    return booking_flight(rows=1, letters="ABCDEF", departure_time=departs)


def test_return_buyers_racing_single_flight_buyers_sell_each_seat_once(strategy, customer):
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    # The return is created first, so it has the lower id: the flights are locked against travel order.
    back = _small_flight(start + timedelta(days=2))
    outbound = _small_flight(start)

    calls = (
        [lambda: journey(customer, [outbound, back])] * 10
        + [lambda: hold(customer, outbound)] * 8
        + [lambda: hold(customer, back)] * 8
    )
    results = race(calls)

    counts = outcome_counts(results)
    assert set(counts) <= {"ok", "sold_out"}
    assert counts["ok"] + counts["sold_out"] == 26
    journeys = Booking.objects.filter(segment_count=2)
    singles_out = Booking.objects.filter(segment_count=1, flight=outbound)
    singles_back = Booking.objects.filter(segment_count=1, flight=back)
    # Demand exceeds supply on both flights, so both sell out, exactly.
    assert journeys.count() + singles_out.count() == SEATS
    assert journeys.count() + singles_back.count() == SEATS
    assert counts["ok"] == journeys.count() + singles_out.count() + singles_back.count()
    for flight in (outbound, back):
        flight.refresh_from_db()
        assert flight.available_seats == 0
        codes = list(
            SeatAssignment.objects.filter(flight=flight, active=True).values_list("seat_code", flat=True)
        )
        assert len(codes) == len(set(codes)) == SEATS
    # Every journey has its seat on both flights: none was left half-held.
    for booking in journeys:
        assert sorted(booking.seat_assignments.values_list("segment", "flight_id")) == [
            (1, outbound.pk),
            (2, back.pk),
        ]
    assert inventory_violations() == []
    call_command("check_inventory")


def test_overlapping_journeys_sharing_a_flight_sell_its_seats_once(strategy, customer):
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    first, shared, last = (_small_flight(start + timedelta(days=day)) for day in range(3))

    calls = [lambda: journey(customer, [first, shared])] * 8 + [lambda: journey(customer, [shared, last])] * 8
    results = race(calls)

    counts = outcome_counts(results)
    assert counts == Counter({"ok": SEATS, "sold_out": 16 - SEATS})
    shared.refresh_from_db()
    assert shared.available_seats == 0
    assert SeatAssignment.objects.filter(active=True).count() == 2 * SEATS
    first.refresh_from_db()
    last.refresh_from_db()
    assert first.available_seats + last.available_seats == SEATS
    assert inventory_violations() == []


def _deadlocks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'")
        return int(cursor.fetchone()[1])


def test_journey_holds_racing_cancels_of_the_same_flights_never_deadlock(strategy, customer):
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    # Travel order against id order: the return exists first. A hold locks by ascending id, as a
    # cancel does (its booking's flights, then the booking); locking in travel order would deadlock.
    back = booking_flight(rows=10, departure_time=start + timedelta(days=2))
    outbound = booking_flight(rows=10, departure_time=start)
    held = [journey(customer, [outbound, back]) for _ in range(12)]
    deadlocks = _deadlocks()

    calls = [lambda: journey(customer, [outbound, back])] * 12 + [
        lambda booking=booking: booking_cancel(booking=booking, actor=customer) for booking in held
    ]
    results = race(calls)

    assert outcome_counts(results) == Counter({"ok": 24})
    assert _deadlocks() == deadlocks
    assert Booking.objects.filter(status=Booking.Status.CANCELLED).count() == 12
    for flight in (outbound, back):
        flight.refresh_from_db()
        assert flight.available_seats == 60 - 12
    assert inventory_violations() == []
