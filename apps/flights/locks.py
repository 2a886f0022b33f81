"""Row locks of the catalogue, through the one locking helper (apps/core/locking.py has the order)."""

from apps.core.locking import lock_row
from apps.flights.exceptions import AirplaneNotFound, FlightNotFound
from apps.flights.models import Airplane, Flight


def flight_lock(*, flight_id: int) -> Flight:
    """Lock one flight row and return its current state. Raises FlightNotFound."""
    flight = lock_row(Flight.objects.filter(pk=flight_id))
    if flight is None:
        raise FlightNotFound(f"Flight {flight_id} does not exist.")
    return flight


def airplane_lock(*, airplane_id: int) -> Airplane:
    """Lock one airplane row and return its current state. Raises AirplaneNotFound.

    Layout changes and flight writes that read an airplane's capacity both take this lock, so a
    flight never copies the capacity of a layout that is being replaced.
    """
    airplane = lock_row(Airplane.objects.filter(pk=airplane_id))
    if airplane is None:
        raise AirplaneNotFound(f"Airplane {airplane_id} does not exist.")
    return airplane
