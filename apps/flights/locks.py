"""The only place that builds select_for_update querysets for the catalogue (STYLE rule 4).

Lock order across the project: flight → seats → booking → payment; a catalogue write that locks
both a flight and an airplane locks the flight first. Call inside transaction.atomic.
"""

from apps.flights.exceptions import AirplaneNotFound, FlightNotFound
from apps.flights.models import Airplane, Flight


def flight_lock(*, flight_id: int) -> Flight:
    """Lock one flight row and return its current state. Raises FlightNotFound."""
    flight = Flight.objects.select_for_update().filter(pk=flight_id).first()
    if flight is None:
        raise FlightNotFound(f"Flight {flight_id} does not exist.")
    return flight


def airplane_lock(*, airplane_id: int) -> Airplane:
    """Lock one airplane row (after the flight, if both are locked). Raises AirplaneNotFound.

    Layout changes and flight writes that read an airplane's capacity both take this lock, so a
    flight never copies the capacity of a layout that is being replaced.
    """
    airplane = Airplane.objects.select_for_update().filter(pk=airplane_id).first()
    if airplane is None:
        raise AirplaneNotFound(f"Airplane {airplane_id} does not exist.")
    return airplane
