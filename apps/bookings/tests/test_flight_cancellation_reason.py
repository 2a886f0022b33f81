"""The reason the airline gives when it cancels a flight: stored by `flight_cancel`, shown to travellers
on the flight's page and their booking's page, and sent in the "flight cancelled" e-mail."""

import pytest
from django.urls import reverse

from apps.bookings.models import Booking
from apps.bookings.tests.factories import booking_flight, hold
from apps.core.exceptions import ValidationFailed
from apps.core.models import AuditEvent
from apps.flights.models import CANCELLATION_REASON_MAX_LENGTH, Flight
from apps.flights.services import flight_cancel
from apps.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return client


def test_a_reason_over_the_limit_is_refused_by_the_service(staff_user, flight):
    with pytest.raises(ValidationFailed) as refused:
        flight_cancel(
            flight_id=flight.pk, actor=staff_user, reason="x" * (CANCELLATION_REASON_MAX_LENGTH + 1)
        )

    assert refused.value.errors == {
        "reason": [f"Must be at most {CANCELLATION_REASON_MAX_LENGTH} characters."]
    }
    flight.refresh_from_db()
    assert (flight.status, flight.cancellation_reason) == (Flight.Status.SCHEDULED, "")


def test_cancelling_a_cancelled_flight_keeps_its_first_reason(staff_user, flight):
    flight_cancel(flight_id=flight.pk, actor=staff_user, reason="Weather at the destination.")

    flight_cancel(flight_id=flight.pk, actor=staff_user, reason="Something else.")

    flight.refresh_from_db()
    assert flight.cancellation_reason == "Weather at the destination."
    assert AuditEvent.objects.filter(action=AuditEvent.Action.FLIGHT_CANCELLED).count() == 1


def test_the_admin_action_cancels_with_the_reason_from_the_action_bar(
    staff, customer, flight, django_capture_on_commit_callbacks
):
    booking = hold(customer, flight)

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            reverse("admin:flights_flight_changelist"),
            {"action": "cancel_flights", "_selected_action": [flight.pk], "reason": "Strike at the airport."},
        )

    flight.refresh_from_db()
    assert (flight.status, flight.cancellation_reason) == (Flight.Status.CANCELLED, "Strike at the airport.")
    email = Notification.objects.get(booking=booking, kind=Notification.Kind.FLIGHT_CANCELLED)
    assert "Reason: Strike at the airport." in email.body_text


def test_travellers_see_the_reason_on_the_flight_page_and_their_booking_page(
    client, staff_user, customer, django_capture_on_commit_callbacks
):
    flight = booking_flight(rows=4, letters="AB", business_fare=None)
    booking = hold(customer, flight)
    with django_capture_on_commit_callbacks(execute=True):
        flight_cancel(flight_id=flight.pk, actor=staff_user, reason="Weather <at> the destination.")
    client.force_login(customer)

    flight_page = client.get(reverse("flights:detail", args=[flight.pk]))
    booking_page = client.get(reverse("bookings:detail", args=[booking.reference]))

    for page in (flight_page, booking_page):
        html = page.content.decode()
        assert "<strong>Reason:</strong> Weather &lt;at&gt; the destination." in html
        assert f"The airline cancelled flight {flight.flight_number}" in html
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    assert "Cancelled" in booking_page.content.decode()


def test_a_flight_cancelled_without_a_reason_says_only_that(
    client, staff_user, customer, django_capture_on_commit_callbacks
):
    flight = booking_flight(rows=4, letters="AB", business_fare=None)
    booking = hold(customer, flight)
    with django_capture_on_commit_callbacks(execute=True):
        flight_cancel(flight_id=flight.pk, actor=staff_user)
    client.force_login(customer)

    html = client.get(reverse("bookings:detail", args=[booking.reference])).content.decode()
    email = Notification.objects.get(booking=booking, kind=Notification.Kind.FLIGHT_CANCELLED)

    assert f"The airline cancelled flight {flight.flight_number}." in html
    assert "Reason:" not in html
    assert "Reason:" not in email.body_text
