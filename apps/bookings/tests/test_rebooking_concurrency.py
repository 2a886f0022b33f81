"""Races of segment moves (apps/bookings/services/changes.py) on real threads and MariaDB, for both
locking strategies: a move and a hold never take one seat twice, and a move and a cancel of the same
booking leave its seats consistent whichever comes first."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.selectors import inventory_violations
from apps.bookings.services import booking_cancel
from apps.bookings.services.changes import booking_segment_move
from apps.bookings.tests.factories import booking_flight, hold, make_status
from apps.bookings.tests.racing import outcome_counts, race
from apps.core.models import AuditEvent
from apps.flights.models import Flight

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

SEATS = 12  # the new flight: two rows of A–F, economy


def _flights() -> tuple[Flight, Flight]:
    departs = timezone.now().replace(microsecond=0) + timedelta(days=3)
    old = booking_flight(rows=4, departure_time=departs, arrival_time=departs + timedelta(hours=2))
    new = booking_flight(
        rows=2,
        departure_airport=old.departure_airport,
        arrival_airport=old.arrival_airport,
        departure_time=departs + timedelta(hours=6),
        arrival_time=departs + timedelta(hours=8),
    )
    return old, new


def test_rebooking_racing_holds_for_the_last_seats_sells_each_seat_once(strategy, customer, staff_user):
    # given 8 confirmed one-passenger bookings on the old flight and 10 buyers of the new one: 18 seats
    # wanted, 12 there
    old, new = _flights()
    bookings = [hold(customer, old) for _ in range(8)]
    for booking in bookings:
        make_status(booking, Booking.Status.CONFIRMED)

    def move(booking):
        return lambda: booking_segment_move(
            booking=booking, segment=1, to_flight_id=new.pk, actor=staff_user, by_airline=True
        )

    results = race([move(booking) for booking in bookings] + [lambda: hold(customer, new)] * 10)

    moves, holds = outcome_counts(results[:8]), outcome_counts(results[8:])
    assert set(moves) <= {"ok", "sold_out"}
    assert set(holds) <= {"ok", "sold_out"}
    # every seat of the new flight went once: rebooked + sold = capacity
    assert moves["ok"] + holds["ok"] == SEATS
    new.refresh_from_db()
    assert new.available_seats == 0
    codes = list(SeatAssignment.objects.filter(flight=new, active=True).values_list("seat_code", flat=True))
    assert len(codes) == len(set(codes)) == SEATS
    assert Booking.objects.filter(flight=new, segment_count=1).count() == SEATS
    # those not moved keep their seat on the old flight; the moved ones gave theirs back
    old.refresh_from_db()
    assert old.available_seats == old.total_seats - moves["sold_out"]
    assert SeatAssignment.objects.filter(flight=old, active=True).count() == moves["sold_out"]
    assert AuditEvent.objects.filter(action="rebooked").count() == moves["ok"]
    assert inventory_violations() == []
    call_command("check_inventory")


def test_a_move_racing_a_cancel_of_the_same_booking_leaves_the_seats_consistent(
    strategy, customer, staff_user
):
    # given 8 held bookings, each moved by staff and cancelled by its owner at the same moment
    old, new = _flights()
    bookings = [hold(customer, old) for _ in range(8)]
    calls = []
    for booking in bookings:
        calls.append(
            lambda booking=booking: booking_segment_move(
                booking=booking, segment=1, to_flight_id=new.pk, actor=staff_user, by_airline=True
            )
        )
        calls.append(lambda booking=booking: booking_cancel(booking=booking, actor=customer))

    results = race(calls)

    moves, cancels = outcome_counts(results[0::2]), outcome_counts(results[1::2])
    # every cancel succeeds (one that locked the old flight after the move re-reads and retries); a move
    # either came first or finds the booking cancelled
    assert cancels == {"ok": 8}
    assert set(moves) <= {"ok", "booking_not_movable"}
    for booking, moved in zip(bookings, results[0::2], strict=True):
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
        actions = list(
            AuditEvent.objects.filter(subject_ref=booking.reference)
            .exclude(action="created")
            .order_by("pk")
            .values_list("action", flat=True)
        )
        assert actions == (["rebooked", "cancelled"] if not isinstance(moved, Exception) else ["cancelled"])
    # no seat is left taken on either flight
    for flight in (old, new):
        flight.refresh_from_db()
        assert flight.available_seats == flight.total_seats
        assert not SeatAssignment.objects.filter(flight=flight, active=True).exists()
    assert inventory_violations() == []
    call_command("check_inventory")
