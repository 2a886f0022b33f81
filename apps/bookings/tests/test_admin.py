import pytest
from django.urls import reverse

from apps.bookings.models import Booking
from apps.bookings.tests.factories import hold, make_status
from apps.flights.models import Flight

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_browser(client, staff_user):
    client.force_login(staff_user)
    return client


def test_staff_cancel_bookings_through_the_admin_action(staff_browser, customer, flight):
    held = hold(customer, flight, count=2)
    paying = hold(customer, flight)
    make_status(paying, Booking.Status.PAYING)

    response = staff_browser.post(
        reverse("admin:bookings_booking_changelist"),
        {"action": "cancel_bookings", "_selected_action": [held.pk, paying.pk]},
        follow=True,
    )

    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert "Cancelled 1 booking(s)." in shown
    assert any(paying.reference in message and "payment is in progress" in message for message in shown)
    assert Booking.objects.get(pk=held.pk).status == Booking.Status.CANCELLED
    assert Booking.objects.get(pk=paying.pk).status == Booking.Status.PAYING
    flight.refresh_from_db()
    assert flight.available_seats == 115


def test_booking_page_is_read_only(staff_browser, customer, flight):
    booking = hold(customer, flight, count=2)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])

    page = staff_browser.get(url)
    staff_browser.post(url, {"status": "confirmed"})

    assert page.status_code == 200
    assert booking.reference in page.content.decode()
    assert 'name="status"' not in page.content.decode()
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD


def test_staff_cancel_a_flight_through_the_admin_action(
    staff_browser, customer, flight, django_capture_on_commit_callbacks
):
    held = hold(customer, flight, count=2)
    paying = hold(customer, flight)
    make_status(paying, Booking.Status.PAYING)

    with django_capture_on_commit_callbacks(execute=True):  # the request's commits, as in production
        response = staff_browser.post(
            reverse("admin:flights_flight_changelist"),
            {"action": "cancel_flights", "_selected_action": [flight.pk]},
            follow=True,
        )

    shown = [str(message) for message in response.context["messages"]]
    assert any(message.startswith(f"{flight}: cancelled.") for message in shown)
    flight.refresh_from_db()
    assert flight.status == Flight.Status.CANCELLED
    assert Booking.objects.get(pk=held.pk).status == Booking.Status.CANCELLED
    assert Booking.objects.get(pk=paying.pk).status == Booking.Status.PAYING  # its payment ends it
    assert flight.available_seats == 115


def test_customers_cannot_reach_the_cancel_flight_action(client, customer, flight):
    client.force_login(customer)

    response = client.post(
        reverse("admin:flights_flight_changelist"),
        {"action": "cancel_flights", "_selected_action": [flight.pk]},
    )

    assert response.status_code == 302  # to the admin login
    flight.refresh_from_db()
    assert flight.status == Flight.Status.SCHEDULED
