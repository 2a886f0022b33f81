"""Test data of flight changes: a route with two flights selling the standard fare families, bookings
paid on the first through the real payment service, and a change asked the way a client asks it (a quote,
then the change with its token)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from apps.bookings.models import Booking, FlightChange
from apps.bookings.services import booking_hold_create
from apps.bookings.services.flight_changes import FlightChangeQuote, flight_change_quote
from apps.bookings.tests.factories import booking_flight, passengers
from apps.bookings.tests.test_fare_families import family_flight
from apps.flights.models import Flight
from apps.flights.tests.factories import flight_with_families
from apps.payments.tests.factories import booking_paid

# The later flight's prices unless told: Saver dearer (4500 → 5000), Flex cheaper (6200 → 6000).
NEW_PRICES = {"ECO_SAVER": "5000.00", "ECO_FLEX": "6000.00", "BUS_FLEX": "16000.00"}


def change_route(
    new_prices: dict[str, str] | None = None, *, hours: int = 6, rows: int = 10, **fields
) -> tuple[Flight, Flight]:
    """A flight five days ahead selling Saver 4500, Flex 6200, Business Flex 15000 (two business rows
    ACDF, eight economy rows, from an airport charging a ₹620 fee) and a flight `hours` later on its
    route at `new_prices` (two business rows and `rows` − 2 economy rows)."""
    departs = timezone.now().replace(microsecond=0) + timedelta(days=5)
    old = family_flight(departure_time=departs, arrival_time=departs + timedelta(hours=2))
    later = departs + timedelta(hours=hours)
    new = flight_with_families(
        booking_flight(
            rows=rows,
            business_rows=2,
            departure_airport=old.departure_airport,
            arrival_airport=old.arrival_airport,
            departure_time=later,
            arrival_time=later + timedelta(hours=2),
            **fields,
        ),
        new_prices or NEW_PRICES,
    )
    return old, new


def paid_in(user, flight: Flight, family: str, travellers: list[dict] | None = None) -> Booking:
    """A booking of `travellers` (one adult unless told) in fare family `family`, paid in full."""
    return booking_paid(
        booking_hold_create(
            user=user, flight_id=flight.pk, passengers=travellers or passengers(1), fare_family=family
        )
    )


def quote_of(booking: Booking, to_flight: Flight, segment: int = 1) -> FlightChangeQuote:
    return flight_change_quote(
        booking=booking, segment=segment, to_flight_id=to_flight.pk, actor=booking.owner
    )


def change_made(
    booking: Booking,
    to_flight: Flight,
    *,
    key: str = "change-1",
    card: str = "tok_visa",
    token: str | None = None,
    segment: int = 1,
) -> FlightChange:
    """Change `booking` to `to_flight` through the real service, quoting first unless given `token`."""
    from apps.payments.services import booking_flight_change

    return booking_flight_change(
        booking=Booking.objects.get(pk=booking.pk),
        segment=segment,
        to_flight_id=to_flight.pk,
        actor=booking.owner,
        quote=token or quote_of(booking, to_flight, segment).token,
        idempotency_key=key,
        payment_method=card,
    )


def fares(booking: Booking) -> list[Decimal]:
    return list(booking.seat_assignments.order_by("passenger__position").values_list("fare", flat=True))
