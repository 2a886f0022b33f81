"""Typed errors of the flight catalogue (rendered as problem+json by the core handler)."""

from apps.core.exceptions import Conflict, NotFound


class FlightNotFound(NotFound):
    code = "flight_not_found"
    title = "No such flight"


class AirplaneNotFound(NotFound):
    code = "airplane_not_found"
    title = "No such airplane"


class AirplaneInService(Conflict):
    """The airplane flies scheduled flights: its layout cannot change and it cannot be deleted."""

    code = "airplane_in_service"
    title = "The airplane has flights"


class FlightNotCancellable(Conflict):
    code = "flight_not_cancellable"
    title = "The flight can no longer be cancelled"


class FlightHasBookings(Conflict):
    """Seats of the flight are held or sold, so the change would break those bookings."""

    code = "flight_has_bookings"
    title = "The flight has bookings"
