"""Template filters of passenger types: `{% load passengers %}`, then `passenger|infant_fare_on:n` (an
infant's fare on flight n of the journey, or None) and `passenger|passenger_kind` (" (child)",
" (infant)" or "" for an adult), docs/PASSENGERS.md."""

from decimal import Decimal

from django import template

from apps.bookings.models import Passenger

register = template.Library()


@register.filter
def infant_fare_on(passenger: Passenger, segment: int) -> Decimal | None:
    """Read only for an infant (one query for its few price lines, unless the hold left them)."""
    if not passenger.is_infant:
        return None
    line = passenger.infant_fare_on(int(segment))
    return None if line is None else line.fare


@register.filter
def passenger_kind(passenger: Passenger) -> str:
    return "" if passenger.type == Passenger.Type.ADULT else f" ({passenger.get_type_display().lower()})"
