"""Row locks of the catalogue, through the one locking helper (apps/core/locking.py has the order)."""

from apps.core.locking import lock_row, lock_row_raw, lock_rows
from apps.flights.exceptions import AirplaneNotFound, FlightNotFound
from apps.flights.models import Airplane, Flight


def flight_lock(*, flight_id: int) -> Flight:
    """Lock one flight row and return its current state. Raises FlightNotFound."""
    flight = lock_row(Flight.objects.filter(pk=flight_id))
    if flight is None:
        raise FlightNotFound(f"Flight {flight_id} does not exist.")
    return flight


def flights_lock(*, flight_ids: list[int]) -> list[Flight]:
    """Lock several flight rows (by ascending id, as every lock is taken) and return them.
    Raises FlightNotFound when one is missing."""
    flights = lock_rows(Flight.objects.filter(pk__in=flight_ids))
    if len(flights) != len(set(flight_ids)):
        missing = sorted(set(flight_ids) - {flight.pk for flight in flights})
        raise FlightNotFound(f"Flight {missing[0]} does not exist.")
    return flights


# What a hold decides under the flight's lock: the sale rule, the inventory, the fares it charges.
FLIGHT_HOLD_COLUMNS = (
    "status",
    "departure_time",
    "available_seats",
    "total_seats",
    "seats_taken",
    "currency",
    "base_fare",
    "premium_economy_fare",
    "business_fare",
    "first_fare",
    "family_fares",
)


def flight_lock_for_hold(*, flight_id: int) -> Flight:
    """Lock one flight row for a hold, reading only FLIGHT_HOLD_COLUMNS (the hot path: its SQL is
    written by the locking helper, not built by the ORM). Raises FlightNotFound."""
    flight = lock_row_raw(Flight, flight_id, FLIGHT_HOLD_COLUMNS)
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
