"""A booking as a calendar entry (iCalendar, RFC 5545): one event per flight, on the airports' clocks.

Each event starts at the departure in the departure airport's time zone and ends at the arrival in the
arrival airport's, with both zones' definitions in the file, so a calendar app shows the times the
traveller will see at the airports wherever it runs. The confirmation e-mail attaches it and the
e-ticket offers it for download.
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from apps.bookings.models import Booking, Segment
from apps.bookings.selectors import booking_get

CONTENT_TYPE = "text/calendar; charset=utf-8"


def booking_calendar(booking: Booking) -> bytes:
    """The .ics of `booking`: each flight of its journey as an event (its uid names the booking and the
    flight), each listing the passengers' seats on that flight; cancelled when the booking is."""
    calendar = Calendar()
    calendar.add("prodid", "-//Airline//Bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    url = _booking_url(booking)
    for segment in booking_get(booking_id=booking.pk).journey():  # every segment's flight and seats
        calendar.add_component(_flight_event(booking, segment, url))
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _flight_event(booking: Booking, segment: Segment, url: str) -> Event:
    flight = segment.flight
    origin, destination = flight.departure_airport, flight.arrival_airport
    passengers = [
        f"{passenger.first_name} {passenger.last_name.upper()}"
        + (f", seat {seat.seat_code}" if seat is not None and seat.active else "")
        for passenger, seat in segment.seats
    ]
    event = Event()
    event.add("uid", f"{booking.reference}-{flight.pk}@airline")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", flight.departure_time.astimezone(ZoneInfo(origin.time_zone)))
    event.add("dtend", flight.arrival_time.astimezone(ZoneInfo(destination.time_zone)))
    event.add(
        "summary",
        f"Flight {flight.flight_number} {origin.city.name} ({origin.iata_code}) to "
        f"{destination.city.name} ({destination.iata_code})",
    )
    event.add("location", f"{origin.name}, {origin.city.name}")
    description = [f"Booking reference {booking.reference}", *passengers]
    if url:
        description.append(url)
        event.add("url", url)
    event.add("description", "\n".join(description))
    event.add("status", "CANCELLED" if booking.status == Booking.Status.CANCELLED else "CONFIRMED")
    return event


def booking_calendar_filename(booking: Booking) -> str:
    return f"airline-{booking.reference}.ics"


def _booking_url(booking: Booking) -> str:
    if not settings.SITE_URL:
        return ""
    return f"{settings.SITE_URL.rstrip('/')}{reverse('bookings:detail', args=[booking.reference])}"
