"""Journeys of several flights: the rule that makes two consecutive flights of one trip plausible."""

from datetime import timedelta

from django.conf import settings

from apps.flights.models import Flight


def journey_connection_problem(previous: Flight, following: Flight) -> str | None:
    """Why `following` cannot be the next flight of a journey after `previous` (a sentence), or None.

    It must leave at least JOURNEY_MIN_CONNECTION_MINUTES after `previous` lands. Where it leaves from
    is the search's concern (a return leaves from where the outbound arrived; a multi-city trip may go
    on from elsewhere).
    """
    earliest = previous.arrival_time + timedelta(minutes=settings.JOURNEY_MIN_CONNECTION_MINUTES)
    if following.departure_time < earliest:
        minutes = settings.JOURNEY_MIN_CONNECTION_MINUTES
        return (
            f"Flight {following.flight_number} leaves less than {minutes} minutes after flight "
            f"{previous.flight_number} lands."
        )
    return None
