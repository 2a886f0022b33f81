"""Moving one segment of a booking to another flight (apps/bookings/services/changes.py), against the
real database and the real outbox: what moves, what every refusal leaves untouched."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.bookings.exceptions import (
    BookingNotMovable,
    FlightNotBookable,
    MoveConnectionBroken,
    MoveRouteMismatch,
    SoldOut,
)
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.selectors import inventory_violations
from apps.bookings.services import booking_cancel, booking_check_in
from apps.bookings.services.changes import booking_segment_move
from apps.bookings.tests.factories import (
    booking_flight,
    hold,
    hold_journey,
    make_overdue,
    make_status,
    return_flight,
)
from apps.core.exceptions import PermissionDenied, ValidationFailed
from apps.core.models import AuditEvent
from apps.flights.models import Flight
from apps.flights.tests.factories import AirportFactory
from apps.notifications.models import Notification

pytestmark = pytest.mark.django_db


def later_flight(flight: Flight, *, hours: int = 5, **fields) -> Flight:
    """Another flight on `flight`'s route, `hours` later, with the same layout unless told."""
    departs = flight.departure_time + timedelta(hours=hours)
    fields.setdefault("rows", 20)
    fields.setdefault("business_rows", 2)
    return booking_flight(
        departure_airport=flight.departure_airport,
        arrival_airport=flight.arrival_airport,
        departure_time=departs,
        arrival_time=departs + (flight.arrival_time - flight.departure_time),
        **fields,
    )


def active_seats(flight: Flight) -> list[tuple[int, str]]:
    return sorted(
        SeatAssignment.objects.filter(flight=flight, active=True).values_list("booking_id", "seat_code")
    )


def test_a_confirmed_booking_moves_with_its_seats_and_its_traveller_is_told(customer, staff_user, flight):
    # given a confirmed booking of two on 5A, 5B and a later flight on the same route with 5A taken
    booking = hold(customer, flight, count=2, seats=["5A", "5B"])
    make_status(booking, Booking.Status.CONFIRMED)
    new = later_flight(flight)
    hold(customer, new, seats=["5A"])

    # when staff rebook it
    moved = booking_segment_move(
        booking=booking, segment=1, to_flight_id=new.pk, actor=staff_user, by_airline=True
    )

    # then the seats are released on the old flight and taken together on the new one, in the same cabin
    booking.refresh_from_db()
    flight.refresh_from_db()
    new.refresh_from_db()
    assert booking.flight_id == new.pk
    assert booking.status == Booking.Status.CONFIRMED
    assert active_seats(flight) == []
    assert flight.available_seats == flight.total_seats
    new_codes = [code for booking_id, code in active_seats(new) if booking_id == booking.pk]
    assert len(new_codes) == 2
    assert "5A" not in new_codes
    assert new.available_seats == new.total_seats - 3
    rows = list(SeatAssignment.objects.filter(booking=booking).order_by("passenger__position"))
    assert [(row.segment, row.flight_id, row.cabin, row.active) for row in rows] == [
        (1, new.pk, "economy", True),
        (1, new.pk, "economy", True),
    ]
    assert sorted(row.seat_code for row in rows) == sorted(new_codes)
    assert [(move.from_seat, move.to_seat) for move in moved.seats] == [
        ("5A", rows[0].seat_code),
        ("5B", rows[1].seat_code),
    ]
    # the audit row and the e-mail name the old and the new flight and the new seats
    audit = AuditEvent.objects.get(subject_ref=booking.reference, action="rebooked")
    assert audit.actor == staff_user
    assert audit.detail["from_flight"]["id"] == flight.pk
    assert audit.detail["to_flight"]["id"] == new.pk
    assert [seat["from"] for seat in audit.detail["seats"]] == ["5A", "5B"]
    assert audit.detail["fare_difference"] == "0"
    email = Notification.objects.get(booking=booking, kind=Notification.Kind.FLIGHT_CHANGED)
    assert email.recipient == customer.email
    assert flight.flight_number in email.subject
    assert new.flight_number in email.subject
    for code in new_codes:
        assert f"Seat {code}" in email.body_text
    assert "There is nothing to pay." in email.body_text
    assert inventory_violations() == []
    call_command("check_inventory")


def test_the_same_seats_are_kept_when_free_and_the_fare_is_unchanged(customer, staff_user, flight):
    booking = hold(customer, flight, count=2, seats=["1A", "1C"])  # business
    fares = sorted(booking.seat_assignments.values_list("fare", flat=True))
    new = later_flight(flight)

    booking_segment_move(booking=booking, segment=1, to_flight_id=new.pk, actor=staff_user, by_airline=True)

    rows = SeatAssignment.objects.filter(booking=booking)
    assert sorted(rows.values_list("seat_code", "cabin", "flight_id")) == [
        ("1A", "business", new.pk),
        ("1C", "business", new.pk),
    ]
    assert sorted(rows.values_list("fare", flat=True)) == fares
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD


def test_segment_2_of_a_return_trip_moves_and_the_first_flight_stays(customer, staff_user, flight):
    back = return_flight(flight)
    booking = hold_journey(customer, [flight, back], count=1)
    make_status(booking, Booking.Status.CONFIRMED)
    new_back = later_flight(back, hours=2)

    booking_segment_move(
        booking=booking, segment=2, to_flight_id=new_back.pk, actor=staff_user, by_airline=False
    )

    booking.refresh_from_db()
    assert booking.flight_id == flight.pk
    assert sorted(booking.seat_assignments.values_list("segment", "flight_id", "active")) == [
        (1, flight.pk, True),
        (2, new_back.pk, True),
    ]
    back.refresh_from_db()
    assert back.available_seats == back.total_seats
    assert AuditEvent.objects.filter(subject_ref=booking.reference, action="changed").count() == 1
    assert call_command("check_inventory") is None


def test_check_in_on_the_old_flight_is_void(customer, staff_user, settings):
    departs = timezone.now().replace(microsecond=0) + timedelta(hours=10)
    flight = booking_flight(rows=5, departure_time=departs, arrival_time=departs + timedelta(hours=2))
    settings.CHECK_IN_OPENS_HOURS = 24
    booking = hold(customer, flight, seats=["2A"])
    make_status(booking, Booking.Status.CONFIRMED)
    booking_check_in(booking=booking, actor=customer, passenger_positions=[1])
    assert booking.seat_assignments.get().checked_in_at is not None
    new = later_flight(flight, hours=1, rows=5, business_rows=0)

    moved = booking_segment_move(
        booking=booking, segment=1, to_flight_id=new.pk, actor=staff_user, by_airline=True
    )

    seat = booking.seat_assignments.get()
    assert (seat.flight_id, seat.checked_in_at, seat.check_in_number) == (new.pk, None, None)
    assert moved.check_in_voided == 1
    email = Notification.objects.get(booking=booking, kind=Notification.Kind.FLIGHT_CHANGED)
    assert "check in again" in email.body_text


def refused_without_change(booking: Booking, flight: Flight, error: type[Exception], **move) -> Exception:
    """Asserts that the move is refused with `error` and that nothing was written."""
    before = active_seats(flight)
    available = Flight.objects.get(pk=flight.pk).available_seats
    audits = AuditEvent.objects.count()
    with pytest.raises(error) as raised:
        booking_segment_move(booking=booking, **move)
    assert active_seats(flight) == before
    assert Flight.objects.get(pk=flight.pk).available_seats == available
    assert AuditEvent.objects.count() == audits
    assert not Notification.objects.filter(kind=Notification.Kind.FLIGHT_CHANGED).exists()
    assert Booking.objects.get(pk=booking.pk).flight_id == booking.flight_id
    assert inventory_violations() == []
    return raised.value


def test_a_flight_on_another_route_is_refused(customer, staff_user, flight):
    booking = hold(customer, flight)
    elsewhere = later_flight(flight)
    Flight.objects.filter(pk=elsewhere.pk).update(arrival_airport=AirportFactory())
    error = refused_without_change(
        booking,
        flight,
        MoveRouteMismatch,
        segment=1,
        to_flight_id=elsewhere.pk,
        actor=staff_user,
        by_airline=True,
    )
    assert error.http_status == 400
    assert "to_flight_id" in error.errors


def test_a_flight_between_other_airports_of_the_same_cities_is_accepted(customer, staff_user, flight):
    booking = hold(customer, flight)
    same_city = AirportFactory(city=flight.arrival_airport.city)
    new = later_flight(flight)
    Flight.objects.filter(pk=new.pk).update(arrival_airport=same_city)

    booking_segment_move(booking=booking, segment=1, to_flight_id=new.pk, actor=staff_user, by_airline=True)

    assert booking.seat_assignments.get().flight_id == new.pk


def test_a_flight_not_on_sale_is_refused(customer, staff_user, flight):
    booking = hold(customer, flight)
    new = later_flight(flight)
    Flight.objects.filter(pk=new.pk).update(status=Flight.Status.CANCELLED)
    refused_without_change(
        booking, flight, FlightNotBookable, segment=1, to_flight_id=new.pk, actor=staff_user, by_airline=True
    )


def test_not_enough_seats_in_the_cabin_is_refused(customer, other_customer, staff_user, flight):
    booking = hold(customer, flight, count=2, seats=["1A", "1C"])  # business
    new = later_flight(flight)
    hold(other_customer, new, count=7, seats=["1A", "1C", "1D", "1F", "2A", "2C", "2D"])  # one left
    error = refused_without_change(
        booking, flight, SoldOut, segment=1, to_flight_id=new.pk, actor=staff_user, by_airline=True
    )
    assert "Business" in error.detail
    assert Flight.objects.get(pk=new.pk).available_seats == new.total_seats - 7


def test_a_move_that_breaks_the_connection_is_refused(customer, staff_user, flight):
    back = return_flight(flight, after=timedelta(hours=3))
    booking = hold_journey(customer, [flight, back])
    # The outbound 3 hours later lands when the return leaves; the return 4 hours earlier leaves before
    # the outbound lands.
    too_late = later_flight(flight, hours=3)
    refused_without_change(
        booking,
        flight,
        MoveConnectionBroken,
        segment=1,
        to_flight_id=too_late.pk,
        actor=staff_user,
        by_airline=True,
    )
    too_early = later_flight(back, hours=-4)
    refused_without_change(
        booking,
        back,
        MoveConnectionBroken,
        segment=2,
        to_flight_id=too_early.pk,
        actor=staff_user,
        by_airline=True,
    )


@pytest.mark.parametrize("status", [Booking.Status.PAYING, Booking.Status.CANCELLED, "overdue"])
def test_a_booking_neither_confirmed_nor_held_is_refused(customer, staff_user, flight, status):
    booking = hold(customer, flight)
    if status == Booking.Status.CANCELLED:
        booking_cancel(booking=booking, actor=customer)
    elif status == "overdue":
        make_overdue(booking)
    else:
        make_status(booking, status)
    new = later_flight(flight)
    refused_without_change(
        booking, flight, BookingNotMovable, segment=1, to_flight_id=new.pk, actor=staff_user, by_airline=True
    )
    assert Flight.objects.get(pk=new.pk).available_seats == new.total_seats


def test_a_segment_the_booking_has_not_and_its_own_flight_are_refused(customer, staff_user, flight):
    booking = hold(customer, flight)
    error = refused_without_change(
        booking,
        flight,
        ValidationFailed,
        segment=2,
        to_flight_id=flight.pk,
        actor=staff_user,
        by_airline=True,
    )
    assert "segment" in error.errors
    error = refused_without_change(
        booking,
        flight,
        ValidationFailed,
        segment=1,
        to_flight_id=flight.pk,
        actor=staff_user,
        by_airline=True,
    )
    assert "to_flight_id" in error.errors


def test_without_the_permissions_nobody_moves_a_booking(customer, bare_staff_user, flight):
    booking = hold(customer, flight)
    new = later_flight(flight)
    for actor in (customer, bare_staff_user):
        refused_without_change(
            booking, flight, PermissionDenied, segment=1, to_flight_id=new.pk, actor=actor, by_airline=False
        )


def test_a_booking_moved_twice_is_told_each_time(customer, staff_user, flight):
    booking = hold(customer, flight)
    first, second = later_flight(flight), later_flight(flight, hours=8)
    booking_segment_move(booking=booking, segment=1, to_flight_id=first.pk, actor=staff_user, by_airline=True)
    Notification.objects.filter(kind=Notification.Kind.FLIGHT_CHANGED).update(status=Notification.Status.SENT)

    booking_segment_move(
        booking=booking, segment=1, to_flight_id=second.pk, actor=staff_user, by_airline=True
    )

    email = Notification.objects.get(booking=booking, kind=Notification.Kind.FLIGHT_CHANGED)
    assert email.status == Notification.Status.PENDING
    assert f"{first.flight_number} is now {second.flight_number}" in email.subject
    assert AuditEvent.objects.filter(subject_ref=booking.reference, action="rebooked").count() == 2
    assert Flight.objects.get(pk=first.pk).available_seats == first.total_seats
