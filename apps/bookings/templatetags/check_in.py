"""Template filters of online check-in: `{% load check_in %}`, then `flight|check_in_window` (when it
opens and closes) and `flight|check_in_state` ("not_yet", "open" or "closed" now), for one flight of a
booking's journey (`Booking.journey`)."""

from django import template
from django.utils import timezone

from apps.bookings.services.check_in import CheckInWindow, check_in_window
from apps.flights.models import Flight

register = template.Library()


@register.filter(name="check_in_window")
def check_in_window_filter(flight: Flight) -> CheckInWindow:
    return check_in_window(flight)


@register.filter
def check_in_state(flight: Flight) -> str:
    return check_in_window(flight).state(timezone.now())
