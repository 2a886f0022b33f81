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

from apps.bookings.models import Booking

CONTENT_TYPE = "text/calendar; charset=utf-8"


def booking_calendar(booking: Booking) -> bytes:
    """The .ics of `booking`: its flight as an event, cancelled when the booking is."""
    flight = booking.flight
    origin, destination = flight.departure_airport, flight.arrival_airport
    passengers = [
        f"{passenger.first_name} {passenger.last_name.upper()}"
        + (f", seat {passenger.seat_assignment.seat_code}" if _seat(passenger) else "")
        for passenger in booking.passengers.prefetch_related("seat_assignments").order_by("position")
    ]
    calendar = Calendar()
    calendar.add("prodid", "-//Airline//Bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
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
    if url := _booking_url(booking):
        description.append(url)
        event.add("url", url)
    event.add("description", "\n".join(description))
    event.add("status", "CANCELLED" if booking.status == Booking.Status.CANCELLED else "CONFIRMED")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def booking_calendar_filename(booking: Booking) -> str:
    return f"airline-{booking.reference}.ics"


def _seat(passenger) -> bool:
    seat = passenger.seat_assignment
    return bool(seat and seat.active)


def _booking_url(booking: Booking) -> str:
    if not settings.SITE_URL:
        return ""
    return f"{settings.SITE_URL.rstrip('/')}{reverse('bookings:detail', args=[booking.reference])}"
