"""A confirmed booking as a calendar entry: downloaded from the e-ticket and attached to the e-mail."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client, override_settings
from icalendar import Calendar

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.flights.tests.factories import AirportFactory, CityFactory, FlightFactory, mumbai_airport
from apps.notifications.models import Notification
from apps.notifications.services import notification_send
from apps.notifications.tests.support import DEPARTURE, booked_and_paid

pytestmark = pytest.mark.django_db


def mumbai_to_dubai():
    """09:30 in Mumbai (IST, UTC+5:30) to 11:15 in Dubai (GST, UTC+4): two zones, neither UTC."""
    dubai = AirportFactory(
        iata_code="DXB", name="Dubai International", city=CityFactory(name="Dubai"), time_zone="Asia/Dubai"
    )
    return FlightFactory(
        flight_number="AI983",
        departure_airport=mumbai_airport(),
        arrival_airport=dubai,
        departure_time=DEPARTURE,
        arrival_time=DEPARTURE + timedelta(hours=3, minutes=15),
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def event_of(ics: bytes):
    calendar = Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


@override_settings(SITE_URL="https://airline.example")
def test_the_e_ticket_downloads_the_flight_on_each_airports_clock():
    owner = UserFactory()
    booking = booked_and_paid(owner=owner, flight=mumbai_to_dubai())

    response = signed_in(owner).get(f"/bookings/{booking.reference}/calendar.ics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="airline-{booking.reference}.ics"'
    calendar, event = event_of(response.content)
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert (start.tzinfo.key, start.isoformat()) == ("Asia/Kolkata", "2030-03-12T09:30:00+05:30")
    assert (end.tzinfo.key, end.isoformat()) == ("Asia/Dubai", "2030-03-12T11:15:00+04:00")
    assert start == DEPARTURE
    assert end == DEPARTURE + timedelta(hours=3, minutes=15)
    assert {str(zone["tzid"]) for zone in calendar.walk("VTIMEZONE")} == {"Asia/Kolkata", "Asia/Dubai"}
    assert str(event["summary"]) == "Flight AI983 Mumbai (BOM) to Dubai (DXB)"
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["uid"]) == f"{booking.reference}-{booking.flight_id}@airline"
    description = str(event["description"])
    assert f"Booking reference {booking.reference}" in description
    assert "Asha RAO, seat 12A" in description
    assert "Vikram RAO, seat 12B" in description
    assert str(event["url"]) == f"https://airline.example/bookings/{booking.reference}/"
    ticket = signed_in(owner).get(f"/bookings/{booking.reference}/").content.decode()
    assert f'href="/bookings/{booking.reference}/calendar.ics"' in ticket


def test_only_the_owner_of_a_confirmed_booking_gets_its_calendar_entry():
    owner = UserFactory()
    booking = booked_and_paid(owner=owner, flight=mumbai_to_dubai())
    url = f"/bookings/{booking.reference}/calendar.ics"

    anonymous = Client().get(url)
    stranger = signed_in(UserFactory()).get(url)
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    cancelled = signed_in(owner).get(url)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/signin/")
    assert stranger.status_code == 404
    assert cancelled.status_code == 404


def test_the_e_ticket_email_carries_the_calendar_entry_and_the_others_carry_none():
    owner = UserFactory()
    booking = booked_and_paid(owner=owner, flight=mumbai_to_dubai())

    for pk in Notification.objects.order_by("pk").values_list("pk", flat=True):
        assert notification_send(notification_id=pk)

    by_kind = {
        message.extra_headers["X-Airline-Notification"].split("/")[0]: message for message in mail.outbox
    }
    assert set(by_kind) == {"booking_held", "booking_confirmed", "payment_receipt"}
    (attachment,) = by_kind["booking_confirmed"].attachments
    filename, content, content_type = attachment
    assert filename == f"airline-{booking.reference}.ics"
    assert content_type == "text/calendar; charset=utf-8"
    _, event = event_of(content if isinstance(content, bytes) else content.encode())
    assert event.decoded("dtstart").astimezone(ZoneInfo("UTC")) == DEPARTURE
    assert by_kind["booking_held"].attachments == []
    assert by_kind["payment_receipt"].attachments == []
