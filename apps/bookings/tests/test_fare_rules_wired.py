"""The fare families' rules reach the money: a traveller's cancellation refunds by the family the seat was
sold in, a child pays the family's share, and the breakdown adds up to what was paid, infants included."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.bookings.models import Booking, InfantFare, SeatAssignment
from apps.bookings.pricing import price_breakdown, seat_taxes
from apps.bookings.services import booking_cancel, booking_hold_create
from apps.bookings.services.holds import travel_date
from apps.bookings.services.quotes import booking_cancellation_quote
from apps.bookings.tests.factories import passengers
from apps.bookings.tests.test_fare_families import family_flight
from apps.flights.models import FareFamily
from apps.flights.search_cache import catalogue_changed
from apps.payments.models import Refund
from apps.payments.tests.factories import booking_paid

pytestmark = pytest.mark.django_db

SIX_YEARS = timedelta(days=6 * 365 + 2)


@pytest.mark.parametrize(
    ("family", "refund"),
    [
        ("ECO_SAVER", "taxes"),  # non-refundable: the seats' taxes and fees only
        ("ECO_FLEX", "fee"),  # refundable for a ₹1,500 fee per seat
        ("BUS_FLEX", "full"),
    ],
)
def test_cancelling_refunds_by_the_family_each_seat_was_sold_in(customer, family, refund):
    flight = family_flight()
    booking = booking_paid(
        booking_hold_create(user=customer, flight_id=flight.pk, passengers=passengers(2), fare_family=family)
    )
    seats = list(SeatAssignment.objects.filter(booking=booking))
    expected = {
        "taxes": sum((seat_taxes(seat) for seat in seats), Decimal("0")),
        "fee": booking.total_amount - 2 * FareFamily.objects.get(code="ECO_FLEX").refund_fee,
        "full": booking.total_amount,
    }[refund]
    assert Decimal("0") < expected <= booking.total_amount

    quote = booking_cancellation_quote(booking=booking, actor=customer)
    booking_cancel(booking=booking, actor=customer, expected_refund=quote.amount)

    assert quote.amount == expected
    assert [line.rule for line in quote.lines] == [FareFamily.objects.get(code=family).refund_rule] * 2
    assert list(Refund.objects.filter(payment__booking=booking).values_list("amount", flat=True)) == [
        expected
    ]
    assert not SeatAssignment.objects.filter(booking=booking, active=True).exists()


def test_a_child_pays_its_familys_share_and_an_infant_its_familys_share_of_its_adults_fare(customer):
    flight = family_flight(departure_time=timezone.now().replace(microsecond=0) + timedelta(days=5))
    FareFamily.objects.filter(code="ECO_FLEX").update(child_percent=50, infant_percent=20)
    catalogue_changed()  # a family's change is seen by the next hold (as the admin's save does)
    travel = travel_date(flight)
    booking = booking_hold_create(
        user=customer,
        flight_id=flight.pk,
        fare_family="ECO_FLEX",
        passengers=[
            {"first_name": "Asha", "last_name": "Rao"},
            {
                "first_name": "Dev",
                "last_name": "Rao",
                "type": "child",
                "date_of_birth": travel - timedelta(days=6 * 365),
            },
            {
                "first_name": "Mira",
                "last_name": "Rao",
                "type": "infant",
                "date_of_birth": travel - timedelta(days=200),
                "travelling_with": 1,
            },
        ],
    )

    fares = dict(SeatAssignment.objects.filter(booking=booking).values_list("passenger__type", "fare"))
    infant = InfantFare.objects.get(passenger__booking=booking)
    assert fares == {"adult": Decimal("6200.00"), "child": Decimal("3100.00")}
    assert infant.fare == Decimal("1240.00")
    booking = Booking.objects.get(pk=booking.pk)
    assert booking.total_amount == Decimal("10540.00")
    breakdown = price_breakdown(SeatAssignment.objects.filter(booking=booking), [infant])
    assert breakdown.total == booking.total_amount
