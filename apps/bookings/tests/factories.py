"""Test data for bookings. Bookings are made through the service so the seat inventory stays true."""

from datetime import timedelta

from django.test import TestCase
from django.utils import timezone

from apps.bookings.models import Booking
from apps.bookings.services import booking_hold_create
from apps.flights.models import Flight
from apps.flights.services import flight_cancel
from apps.flights.tests.factories import FlightFactory


def booking_flight(*, rows: int = 20, letters: str = "ABCDEF", business_rows: int = 0, **fields) -> Flight:
    return FlightFactory(
        airplane__layout__rows=rows,
        airplane__layout__letters=letters,
        airplane__layout__business_rows=business_rows,
        **fields,
    )


def passengers(count: int) -> list[dict[str, str]]:
    return [{"first_name": f"Pax{index}", "last_name": "Traveller"} for index in range(1, count + 1)]


def hold(user, flight: Flight, count: int = 1, seats: list[str] | None = None) -> Booking:
    return booking_hold_create(user=user, flight_id=flight.pk, passengers=passengers(count), seats=seats)


def make_overdue(booking: Booking) -> None:
    """Move a hold's expiry into the past (the clock, not a workflow: no seat changes)."""
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))


def make_status(booking: Booking, status: str) -> None:
    """Put a booking in a state the payments app would put it in (PAYING, CONFIRMED)."""
    Booking.objects.filter(pk=booking.pk).update(status=status)
    booking.status = status


def cancel_flight(flight: Flight, actor) -> None:
    """The airline cancels `flight`; its bookings follow when that commits (run here, in the test)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        flight_cancel(flight_id=flight.pk, actor=actor)


def return_flight(outbound: Flight, *, after: timedelta = timedelta(hours=3), **fields) -> Flight:
    """A flight back from where `outbound` lands, leaving `after` it lands (a journey needs at least
    JOURNEY_MIN_CONNECTION_MINUTES), as long as the outbound flight."""
    departs = outbound.arrival_time + after
    return booking_flight(
        departure_airport=outbound.arrival_airport,
        arrival_airport=outbound.departure_airport,
        departure_time=departs,
        arrival_time=departs + (outbound.arrival_time - outbound.departure_time),
        **fields,
    )


def hold_journey(user, flights: list[Flight], count: int = 1) -> Booking:
    """A hold of a seat per passenger on each of `flights` (assigned), in that travel order."""
    return booking_hold_create(
        user=user, passengers=passengers(count), segments=[{"flight_id": flight.pk} for flight in flights]
    )
