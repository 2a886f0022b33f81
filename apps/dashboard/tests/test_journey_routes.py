"""A paid journey counts on the route of each of its flights in the busiest routes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.bookings.services import booking_hold_create
from apps.bookings.tests.factories import booking_flight, passengers
from apps.dashboard.periods import Days, business_time_zone
from apps.dashboard.selectors import routes_busiest
from apps.dashboard.tests.conftest import pay
from apps.flights.tests.factories import delhi_airport, mumbai_airport

pytestmark = pytest.mark.django_db


def test_a_paid_return_trip_counts_on_both_routes_with_what_its_seats_on_each_cost(customer):
    bom, dl = mumbai_airport(), delhi_airport()
    leaves = timezone.now().replace(microsecond=0) + timedelta(days=4)
    outbound = booking_flight(
        rows=5, departure_airport=bom, arrival_airport=dl, departure_time=leaves, base_fare=Decimal("1000.00")
    )
    back = booking_flight(
        rows=5,
        departure_airport=dl,
        arrival_airport=bom,
        departure_time=leaves + timedelta(days=2),
        base_fare=Decimal("1500.00"),
    )
    journey = booking_hold_create(
        user=customer, passengers=passengers(2), segments=[{"flight_id": outbound.pk}, {"flight_id": back.pk}]
    )
    pay(journey)
    today = timezone.localtime(timezone.now(), business_time_zone()).date()

    routes = routes_busiest(days=Days.ending_on(today, 7, business_time_zone()))

    assert [(r.origin, r.destination, r.paid_bookings, r.revenue, r.currency) for r in routes] == [
        ("BOM", "DEL", 1, Decimal("2000.00"), "INR"),
        ("DEL", "BOM", 1, Decimal("3000.00"), "INR"),
    ]
