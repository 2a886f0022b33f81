"""What happens to flights, announced to other apps (apps/core/events.py explains events)."""

from dataclasses import dataclass

from apps.accounts.models import User
from apps.core.events import Event
from apps.flights.models import Flight


@dataclass(frozen=True, slots=True)
class FlightCancelled:
    """The airline cancelled `flight` (`actor`: the staff member). Its bookings are not touched yet:
    the bookings app cancels and refunds them once this change commits."""

    flight: Flight
    actor: User | None


flight_cancelled = Event("flight.cancelled", FlightCancelled)
