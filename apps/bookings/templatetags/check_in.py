"""Template filters of online check-in: `{% load check_in %}`, then `booking|check_in_window` (when it
opens and closes) and `booking|check_in_state` ("not_yet", "open" or "closed" now)."""

from django import template
from django.utils import timezone

from apps.bookings.models import Booking
from apps.bookings.services.check_in import CheckInWindow, check_in_window

register = template.Library()


@register.filter(name="check_in_window")
def check_in_window_filter(booking: Booking) -> CheckInWindow:
    return check_in_window(booking.flight)


@register.filter
def check_in_state(booking: Booking) -> str:
    return check_in_window(booking.flight).state(timezone.now())
