"""The booking state machine: every status change goes through it, and it refuses the others."""

import pytest
from django.utils import timezone

from apps.bookings.exceptions import BookingTransitionRefused
from apps.bookings.models import Booking
from apps.bookings.services.lifecycle import status_change
from apps.bookings.tests.factories import hold, make_status

pytestmark = pytest.mark.django_db

Status = Booking.Status


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (Status.HELD, Status.CONFIRMED),  # only through paying
        (Status.CONFIRMED, Status.HELD),
        (Status.CONFIRMED, Status.EXPIRED),
        (Status.CANCELLED, Status.HELD),
        (Status.EXPIRED, Status.PAYING),
    ],
)
def test_a_change_the_machine_does_not_allow_is_refused_and_nothing_is_saved(customer, flight, start, to):
    booking = hold(customer, flight)
    make_status(booking, start)
    booking.refresh_from_db()

    with pytest.raises(BookingTransitionRefused):
        status_change(booking, to, now=timezone.now())

    assert Booking.objects.get(pk=booking.pk).status == start


def test_an_allowed_change_stamps_its_time(customer, flight):
    booking = hold(customer, flight)
    now = timezone.now()

    status_change(booking, Status.PAYING, now=now)
    status_change(booking, Status.CONFIRMED, now=now)

    booking.refresh_from_db()
    assert (booking.status, booking.confirmed_at) == (Status.CONFIRMED, now)


def test_every_status_has_its_transitions_listed():
    assert set(Booking.TRANSITIONS) == set(Status.values)
    assert all(targets <= set(Status.values) for targets in Booking.TRANSITIONS.values())
