"""The e-mails about a booking of several flights name every flight (number, route, local times) and
each passenger's seat on each; the calendar entry has one event per flight."""

from datetime import timedelta

import pytest
from django.core import mail
from icalendar import Calendar

from apps.bookings.models import Booking
from apps.bookings.tests.factories import cancel_flight, hold_journey, make_status, return_flight
from apps.flights.tests.test_views import route_bom_del
from apps.notifications.emails import booking_email_context
from apps.notifications.models import Notification
from apps.notifications.services import flight_reminders_queue, notification_send, notifications_create
from apps.notifications.tests.support import payment_make, receipt_of

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


@pytest.fixture
def journey(customer) -> Booking:
    """Two travellers Mumbai → Delhi (AI205, 09:30–11:35 IST) and back (AI806, 14:35–16:40 IST)."""
    route = route_bom_del()
    back = return_flight(route.midday, flight_number="AI806")
    return hold_journey(customer, [route.midday, back], count=2)


def seats(booking: Booking, segment: int) -> list[str]:
    return list(
        booking.seat_assignments.filter(segment=segment)
        .order_by("passenger__position")
        .values_list("seat_code", flat=True)
    )


def sent(booking: Booking, kind: str, **context) -> Notification:
    """The e-mail of `kind` about `booking`, written as its event writes it and sent to the outbox."""
    if not Notification.objects.filter(booking=booking, kind=kind).exists():
        notifications_create(booking=booking, kinds=[kind], **context)
    notification = Notification.objects.get(booking=booking, kind=kind)
    assert notification_send(notification_id=notification.pk) is True
    notification.refresh_from_db()  # a kind rendered at send has its text now
    return notification


def assert_names_every_flight_and_seat(text: str, booking: Booking) -> None:
    for fact in ("AI205", "AI806", "Mumbai (BOM)", "Delhi (DEL)", "09:30 IST", "11:35 IST", "14:35 IST"):
        assert fact in text, fact
    assert "16:40 IST" in text
    outbound, back = seats(booking, 1), seats(booking, 2)
    assert len(outbound) == len(back) == 2
    for code in outbound + back:
        assert f"Seat {code}" in text, code


@pytest.mark.parametrize(
    "kind",
    [
        Kind.BOOKING_HELD,
        Kind.BOOKING_CONFIRMED,
        Kind.PAYMENT_RECEIPT,
        Kind.BOOKING_CANCELLED,
        Kind.HOLD_EXPIRED,
        Kind.FLIGHT_REMINDER,
        Kind.BOARDING_PASSES,
    ],
)
def test_every_kind_of_e_mail_names_every_flight_of_the_journey(journey, kind):
    receipt = receipt_of(payment_make(journey)) if kind == Kind.PAYMENT_RECEIPT else None

    notification = sent(journey, kind, receipt=receipt)

    (message,) = [message for message in mail.outbox if message.subject == notification.subject]
    html = message.alternatives[0].content
    for fact in ("AI205", "AI806", "09:30 IST", "11:35 IST", "14:35 IST", "16:40 IST", "BOM", "DEL"):
        assert fact in message.body, fact
        assert fact in html, fact
    assert message.body.count("From        ") == 2  # a card per flight
    if kind not in (Kind.HOLD_EXPIRED, Kind.BOARDING_PASSES):  # these list no passengers
        assert_names_every_flight_and_seat(message.body, journey)
        for code in seats(journey, 1) + seats(journey, 2):
            assert f">{code}</td>" in html, code


def test_the_held_and_confirmed_subjects_name_both_flights(journey):
    held = sent(journey, Kind.BOOKING_HELD)
    confirmed = sent(journey, Kind.BOOKING_CONFIRMED, receipt=receipt_of(payment_make(journey)))

    assert held.subject.startswith("Seats held on AI205 + AI806: pay by ")
    assert confirmed.subject.startswith(f"Your e-ticket {journey.reference}: AI205 + AI806 Mumbai to Delhi, ")


def test_the_flight_cancelled_e_mail_speaks_of_the_flight_the_airline_cancelled(journey, staff_user):
    back = journey.seat_assignments.get(segment=2, passenger__position=1).flight

    cancel_flight(back, staff_user)

    notification = sent(journey, Kind.FLIGHT_CANCELLED)
    assert notification.subject.startswith("Flight AI806 on ")
    assert "flight AI806 on " in notification.body_text
    assert "AI806 · 2 h 05 min · CANCELLED" in notification.body_text
    assert "AI205 · 2 h 05 min\n" in notification.body_text
    assert_names_every_flight_and_seat(notification.body_text, journey)


def test_the_context_of_a_journey_costs_three_queries(journey, django_assert_num_queries):
    booking = Booking.objects.select_related("owner", "flight").get(pk=journey.pk)

    with django_assert_num_queries(3):
        context = booking_email_context(booking)

    assert [segment["number"] for segment in context["segments"]] == ["AI205", "AI806"]
    assert [p["seat"] for p in context["segments"][1]["passengers"]] == seats(journey, 2)


def test_the_calendar_entry_has_an_event_per_flight(journey):
    from apps.bookings.calendar import booking_calendar

    events = Calendar.from_ical(booking_calendar(journey)).walk("VEVENT")

    flights = [journey.seat_assignments.filter(segment=n).first().flight for n in (1, 2)]
    assert [str(event["uid"]) for event in events] == [
        f"{journey.reference}-{flight.pk}@airline" for flight in flights
    ]
    assert [event.decoded("dtstart").strftime("%H:%M") for event in events] == ["09:30", "14:35"]
    assert [event.decoded("dtend").strftime("%H:%M") for event in events] == ["11:35", "16:40"]
    assert str(events[1]["summary"]) == "Flight AI806 Delhi (DEL) to Mumbai (BOM)"
    outbound, back = seats(journey, 1), seats(journey, 2)
    assert f"Pax1 TRAVELLER, seat {outbound[0]}" in str(events[0]["description"])
    assert f"Pax1 TRAVELLER, seat {back[0]}" in str(events[1]["description"])


def test_each_flight_of_a_paid_journey_gets_its_own_reminder_the_day_before_it(journey):
    make_status(journey, Booking.Status.CONFIRMED)
    outbound, back = journey.flight, journey.seat_assignments.get(segment=2, passenger__position=1).flight

    first = flight_reminders_queue(now=outbound.departure_time - timedelta(hours=20))
    again = flight_reminders_queue(now=outbound.departure_time - timedelta(hours=19))
    later = flight_reminders_queue(now=back.departure_time - timedelta(hours=2))
    last = flight_reminders_queue(now=back.departure_time - timedelta(hours=1))

    assert (first, again, later, last) == (1, 0, 1, 0)
    reminders = {
        reminder.segment: reminder
        for reminder in Notification.objects.filter(booking=journey, kind=Kind.FLIGHT_REMINDER)
    }
    assert set(reminders) == {1, 2}
    assert reminders[1].subject.startswith("Reminder: AI205 to Delhi departs ")
    assert reminders[2].subject.startswith("Reminder: AI806 to Mumbai departs ")
    assert "Your flight AI806 to Mumbai departs in less than 24 hours." in reminders[2].body_text
    for seat in seats(journey, 2):
        assert f"Seat {seat}" in reminders[2].body_text
    assert "AI205" not in reminders[2].body_text
