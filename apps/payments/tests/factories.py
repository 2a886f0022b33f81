"""Held bookings made by the real booking service, and the request body that pays one."""

from datetime import timedelta

from django.utils import timezone

from apps.bookings.models import Booking
from apps.bookings.services import booking_hold_create
from apps.flights.models import Flight
from apps.flights.tests.factories import FlightFactory


def held_booking(*, owner, flight: Flight | None = None, passengers: int = 1) -> Booking:
    flight = flight or FlightFactory()
    return booking_hold_create(
        user=owner,
        flight_id=flight.pk,
        passengers=[{"first_name": "Asha", "last_name": f"Rao{n}"} for n in range(passengers)],
    )


def hold_run_out(booking: Booking) -> None:
    """Move the booking's hold expiry into the past (the sweeper has not run yet)."""
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))


def payment_body(booking: Booking, *, token: str = "tok_visa", **overrides) -> dict:
    body = {
        "booking_reference": booking.reference,
        "amount": str(booking.total_amount),
        "currency": booking.currency,
        "payment_method": token,
    }
    body.update(overrides)
    return body


def booking_paid(booking: Booking) -> Booking:
    """Pay `booking` in full with the test card through the real payment service; the booking, reloaded."""
    from apps.payments.services import payment_create

    payment_create(
        user=booking.owner,
        booking_reference=booking.reference,
        amount=booking.total_amount,
        currency=booking.currency,
        payment_method="tok_visa",
        idempotency_key=f"paid-{booking.reference}",
    )
    booking.refresh_from_db()
    return booking
