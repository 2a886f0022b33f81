"""The dashboard tests' data: a hand-built week of sales.

The bookings are made, paid, refunded and expired by the real services; only their clocks are then
moved to known days of the business time zone (as apps/bookings/tests/factories.py: make_overdue
moves a hold's expiry), because the dashboard's subject is when things happened.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel, booking_holds_expire
from apps.bookings.tests.factories import booking_flight, hold, make_overdue
from apps.dashboard.periods import business_time_zone, local_midnight
from apps.flights.models import Flight
from apps.flights.tests.factories import delhi_airport, mumbai_airport
from apps.payments.models import Refund
from apps.payments.services import payment_create


@dataclass(frozen=True)
class Sales:
    today: date
    inr: Flight  # BOM → DEL, 10 seats at 1,000.00 INR
    usd: Flight  # DEL → BOM, 10 seats at 100.00 USD

    def day(self, days_ago: int) -> str:
        """The dashboard's name for the day `days_ago` before today."""
        return (self.today - timedelta(days=days_ago)).strftime("%a %d %b")


def at(today: date, days_ago: int, hour: int, minute: int = 0) -> datetime:
    """A local time (business time zone) `days_ago` days before today."""
    return local_midnight(today - timedelta(days=days_ago), business_time_zone()) + timedelta(
        hours=hour, minutes=minute
    )


def pay(booking: Booking) -> None:
    payment_create(
        user=booking.owner,
        booking_reference=booking.reference,
        amount=booking.total_amount,
        currency=booking.currency,
        payment_method="tok_visa",
        idempotency_key=str(uuid.uuid4()),
    )


def clock(booking: Booking, **times: datetime) -> None:
    Booking.objects.filter(pk=booking.pk).update(**times)


@pytest.fixture
def sales(customer) -> Sales:
    """Eight bookings on known days (D-n is n days before today, times in the business zone):

    | booking | flight | made        | then                          |
    |---------|--------|-------------|-------------------------------|
    | paid2   | INR    | D-1 08:00   | 2 seats, paid D-1 08:05       |
    | late    | INR    | D-2 23:50   | paid D-1 00:10 (after midnight)|
    | refunded| INR    | D-3 09:00   | paid D-3 09:05, refunded D-1  |
    | expired | INR    | D-3 11:00   | expired                       |
    | dollars | USD    | D-6 08:00   | paid D-6 08:03                |
    | lapsed  | USD    | D-6 12:00   | expired                       |
    | open    | INR    | today       | still held                    |
    | old     | INR    | D-10 08:00  | paid D-10 (outside 7 days)    |
    """
    today = timezone.localtime(timezone.now(), business_time_zone()).date()
    bom, dl = mumbai_airport(), delhi_airport()
    common = {"rows": 5, "letters": "AB", "business_fare": None}
    inr = booking_flight(departure_airport=bom, arrival_airport=dl, base_fare=Decimal("1000.00"), **common)
    usd = booking_flight(
        departure_airport=dl, arrival_airport=bom, currency="USD", base_fare=Decimal("100.00"), **common
    )
    paid2, late, refunded, expired = hold(customer, inr, 2), *(hold(customer, inr) for _ in range(3))
    dollars, lapsed, old = hold(customer, usd), hold(customer, usd), hold(customer, inr)
    hold(customer, inr)  # open
    for booking in (paid2, late, refunded, dollars, old):
        pay(booking)
    booking_cancel(booking=Booking.objects.get(pk=refunded.pk), actor=customer)
    make_overdue(expired)
    make_overdue(lapsed)
    assert booking_holds_expire() == 2

    clock(paid2, created_at=at(today, 1, 8), confirmed_at=at(today, 1, 8, 5))
    clock(late, created_at=at(today, 2, 23, 50), confirmed_at=at(today, 1, 0, 10))
    clock(refunded, created_at=at(today, 3, 9), confirmed_at=at(today, 3, 9, 5))
    Refund.objects.filter(payment__booking=refunded).update(created_at=at(today, 1, 15))
    clock(expired, created_at=at(today, 3, 11), expired_at=at(today, 3, 11, 10))
    clock(dollars, created_at=at(today, 6, 8), confirmed_at=at(today, 6, 8, 3))
    clock(lapsed, created_at=at(today, 6, 12), expired_at=at(today, 6, 12, 10))
    clock(old, created_at=at(today, 10, 8), confirmed_at=at(today, 10, 8, 5))
    return Sales(today=today, inr=inr, usd=usd)
