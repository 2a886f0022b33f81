"""Writes of the flight catalogue: airplanes with their seat layouts, and flights."""

from apps.flights.services.airplanes import (
    airplane_capacity_refresh,
    airplane_create,
    airplane_delete,
    airplane_update,
    layout_errors,
)
from apps.flights.services.flights import (
    FLIGHT_CANCEL_PERMISSIONS,
    FLIGHT_WRITABLE_FIELDS,
    FLIGHT_WRITABLE_FIELDS_IN_ORDER,
    cancellation_reason_clean,
    flight_cancel,
    flight_cancel_refusal,
    flight_create,
    flight_delete,
    flight_update,
    flight_validate,
)

__all__ = [
    "FLIGHT_CANCEL_PERMISSIONS",
    "FLIGHT_WRITABLE_FIELDS",
    "FLIGHT_WRITABLE_FIELDS_IN_ORDER",
    "airplane_capacity_refresh",
    "airplane_create",
    "airplane_delete",
    "airplane_update",
    "cancellation_reason_clean",
    "flight_cancel",
    "flight_cancel_refusal",
    "flight_create",
    "flight_delete",
    "flight_update",
    "flight_validate",
    "layout_errors",
]
