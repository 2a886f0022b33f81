"""Manage booking without an account: reference and last name (or the e-mail's signed link) open the
booking's pages for this browser only; from there a visitor pays, cancels and checks in as the owner."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.services import booking_hold_create
from apps.bookings.tests.factories import booking_flight
from apps.notifications.models import Notification
from apps.notifications.services import notification_send
from apps.payments.models import Payment, Refund
from apps.payments.tests.factories import booking_paid

pytestmark = pytest.mark.django_db

NOT_FOUND = "We found no booking with that reference and last name."


def held(owner=None, hours: float = 24) -> Booking:
    departure = timezone.now().replace(microsecond=0) + timedelta(hours=hours)
    flight = booking_flight(departure_time=departure, arrival_time=departure + timedelta(hours=2))
    return booking_hold_create(
        user=owner or UserFactory(),
        flight_id=flight.pk,
        passengers=[
            {"first_name": "Asha", "last_name": "Núñez Rao"},
            {"first_name": "Ravi", "last_name": "Iyer"},
        ],
        seats=["7A", "7B"],
    )


def paid(booking: Booking) -> Booking:
    return booking_paid(booking)


def opened(booking: Booking, last_name: str = "nunez rao") -> Client:
    visitor = Client()
    response = visitor.post("/manage/", {"reference": booking.reference.lower(), "last_name": last_name})
    assert response.status_code == 302, response.content.decode()
    return visitor


def test_reference_and_any_passengers_last_name_open_the_booking_for_this_browser_only():
    booking = paid(held())

    visitor = opened(booking, last_name="  IYER ")
    page = visitor.get(f"/bookings/{booking.reference}/")

    assert page.status_code == 200
    assert booking.reference in page.content.decode()
    assert Client().get(f"/bookings/{booking.reference}/")["Location"].startswith("/signin/")
    assert opened(booking).get(f"/bookings/{booking.reference}/").status_code == 200  # accents and case


def test_a_wrong_reference_and_a_wrong_last_name_get_the_same_answer_and_open_nothing():
    booking = held()
    visitor = Client()

    wrong_name = visitor.post("/manage/", {"reference": booking.reference, "last_name": "Smith"})
    wrong_reference = visitor.post("/manage/", {"reference": "ZZZZZZ", "last_name": "Iyer"})

    assert wrong_name.status_code == wrong_reference.status_code == 400
    assert NOT_FOUND in wrong_name.content.decode()
    assert NOT_FOUND in wrong_reference.content.decode()
    assert visitor.get(f"/bookings/{booking.reference}/")["Location"].startswith("/signin/")


def test_a_grant_for_one_booking_opens_no_other():
    mine, other = held(), held()

    visitor = opened(mine)

    assert visitor.get(f"/bookings/{other.reference}/").status_code == 404
    assert visitor.post(f"/bookings/{other.reference}/cancel/").status_code == 404
    other.refresh_from_db()
    assert other.status == Booking.Status.HELD


@override_settings(RATELIMIT_MANAGE_BOOKING="2/m")
def test_lookups_are_limited_per_client_address():
    booking = held()
    visitor = Client()
    for _ in range(2):
        visitor.post("/manage/", {"reference": "ZZZZZZ", "last_name": "x"})

    refused = visitor.post("/manage/", {"reference": booking.reference, "last_name": "Iyer"})

    assert refused.status_code == 302
    assert refused["Location"] == "/manage/"
    assert "Please wait" in visitor.get("/manage/").content.decode()
    assert visitor.get(f"/bookings/{booking.reference}/")["Location"].startswith("/signin/")


def test_a_visitor_pays_a_hold_once_as_its_owner():
    booking = held()
    visitor = opened(booking)
    pay_page = visitor.get(f"/bookings/{booking.reference}/pay/")
    key = re.search(r'name="idempotency_key" value="([^"]+)"', pay_page.content.decode()).group(1)

    for _ in range(2):  # a double click
        visitor.post(
            f"/bookings/{booking.reference}/pay/", {"payment_method": "tok_visa", "idempotency_key": key}
        )

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    payment = Payment.objects.get(booking=booking)
    assert payment.owner_id == booking.owner_id
    assert Payment.objects.filter(booking=booking, status=Payment.Status.SUCCEEDED).count() == 1


def test_a_visitor_cancels_a_paid_booking_and_it_is_refunded_once():
    booking = paid(held())
    visitor = opened(booking)

    response = visitor.post(f"/bookings/{booking.reference}/cancel/")

    assert response["Location"] == f"/bookings/{booking.reference}/"
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert Refund.objects.filter(payment__booking=booking).count() == 1
    assert not booking.seat_assignments.filter(active=True).exists()


def test_a_visitor_checks_in_and_opens_the_boarding_pass():
    booking = paid(held(hours=20))
    visitor = opened(booking)

    visitor.post(f"/bookings/{booking.reference}/check-in/", {"passenger": ["1", "2"]})

    assert SeatAssignment.objects.filter(booking=booking, check_in_number__isnull=False).count() == 2
    assert visitor.get(f"/bookings/{booking.reference}/boarding-pass/2/").status_code == 200


@override_settings(SITE_URL="https://airline.example")
def test_the_link_in_every_booking_email_opens_the_booking_and_a_forged_one_does_not():
    booking = paid(held())
    for pk in Notification.objects.values_list("pk", flat=True):
        notification_send(notification_id=pk)

    links = [re.search(r"https://airline\.example(/manage/open/\S+/)", m.body).group(1) for m in mail.outbox]
    assert len(links) == 3  # held, e-ticket, receipt
    for link in links:
        visitor = Client()
        assert visitor.get(link)["Location"] == f"/bookings/{booking.reference}/"
        assert visitor.get(f"/bookings/{booking.reference}/").status_code == 200
    forged = Client().get(links[0].replace("/open/", "/open/x"))
    assert forged["Location"] == "/manage/"
