"""Writes of the flight catalogue: airplanes with their seat layout, and flights.

Every write validates the whole resulting state first and raises ValidationFailed with `errors`
naming each bad field (the same rules the database constraints enforce, so a client learns which
field is wrong instead of meeting an IntegrityError), then writes in one transaction and bumps the
search cache's catalogue version once that transaction commits.
"""

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone

from apps.core.exceptions import ValidationFailed
from apps.flights.exceptions import AirplaneInService, FlightHasBookings
from apps.flights.locks import airplane_lock, flight_lock
from apps.flights.models import Airplane, Airport, Cabin, CabinSection, Flight
from apps.flights.search_cache import catalogue_changed

MAX_ROW = 150
MAX_FARE = Decimal("100000000")  # max_digits=10, decimal_places=2
REGISTRATION_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,9}$")
SEAT_LETTERS_RE = re.compile(r"^[A-K]{1,12}$")
FLIGHT_NUMBER_RE = re.compile(r"^[A-Z0-9]{2}[0-9]{1,4}$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
GATE_RE = re.compile(r"^[A-Z0-9-]{0,8}$")

# The fare column of each cabin; economy's fare is the flight's base fare.
CABIN_FARE_FIELDS = {
    Cabin.ECONOMY: "base_fare",
    Cabin.PREMIUM_ECONOMY: "premium_economy_fare",
    Cabin.BUSINESS: "business_fare",
    Cabin.FIRST: "first_fare",
}
FLIGHT_WRITABLE_FIELDS_IN_ORDER = (
    "flight_number",
    "airplane_id",
    "departure_airport",
    "arrival_airport",
    "departure_time",
    "arrival_time",
    "currency",
    "base_fare",
    "premium_economy_fare",
    "business_fare",
    "first_fare",
    "gate",
    "status",
)
FLIGHT_WRITABLE_FIELDS = frozenset(FLIGHT_WRITABLE_FIELDS_IN_ORDER)

Layout = tuple[tuple[str, int, int, str], ...]


# --- Airplanes -----------------------------------------------------------------------------------


def _layout(cabin_sections: Sequence[Mapping[str, Any]]) -> Layout:
    return tuple(
        sorted(
            (s["cabin"], int(s["first_row"]), int(s["last_row"]), str(s["seat_letters"]).upper())
            for s in cabin_sections
        )
    )


def layout_errors(cabin_sections: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """What is wrong with a seat layout, keyed `cabin_sections` or `cabin_sections.<i>.<field>`.

    A layout has at least one section and an economy cabin (its fare is the flight's base fare);
    each section has a known cabin, rows 1..MAX_ROW in order and distinct seat letters A–K; no two
    sections share a row.
    """
    errors: dict[str, list[str]] = {}
    if not cabin_sections:
        return {"cabin_sections": ["A layout needs at least one cabin section."]}
    taken_rows: dict[int, int] = {}
    for index, section in enumerate(cabin_sections):
        prefix = f"cabin_sections.{index}"
        cabin = section.get("cabin")
        first_row, last_row = section.get("first_row"), section.get("last_row")
        letters = str(section.get("seat_letters") or "").upper()
        if cabin not in Cabin.values:
            errors[f"{prefix}.cabin"] = [f"Must be one of {', '.join(Cabin.values)}."]
        rows_valid = True
        for name, value in (("first_row", first_row), ("last_row", last_row)):
            if not isinstance(value, int) or not 1 <= value <= MAX_ROW:
                errors[f"{prefix}.{name}"] = [f"Must be a row number from 1 to {MAX_ROW}."]
                rows_valid = False
        if rows_valid and last_row < first_row:
            errors[f"{prefix}.last_row"] = ["Must not be before first_row."]
            rows_valid = False
        if not SEAT_LETTERS_RE.match(letters) or len(set(letters)) != len(letters):
            errors[f"{prefix}.seat_letters"] = ["Must be 1 to 12 distinct letters from A to K."]
        if rows_valid:
            for row in range(first_row, last_row + 1):
                if row in taken_rows:
                    errors.setdefault(f"{prefix}.first_row", []).append(
                        f"Row {row} is already in section {taken_rows[row]}."
                    )
                    break
                taken_rows[row] = index
    if not errors and not any(section["cabin"] == Cabin.ECONOMY for section in cabin_sections):
        errors["cabin_sections"] = ["A layout needs an economy section (its fare is the base fare)."]
    return errors


def _airplane_errors(*, model_name: str, registration: str, airplane_id: int | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not model_name.strip() or len(model_name) > 50:
        errors["model_name"] = ["Must be 1 to 50 characters."]
    if not REGISTRATION_RE.match(registration):
        errors["registration"] = ["Must be 2 to 10 letters, digits or hyphens, e.g. VT-ANA."]
    elif Airplane.objects.filter(registration=registration).exclude(pk=airplane_id).exists():
        errors["registration"] = ["Another airplane has this registration."]
    return errors


def _sections_replace(airplane: Airplane, cabin_sections: Sequence[Mapping[str, Any]]) -> None:
    airplane.cabin_sections.all().delete()
    sections = CabinSection.objects.bulk_create(
        CabinSection(
            airplane=airplane,
            cabin=cabin,
            first_row=first_row,
            last_row=last_row,
            seat_letters=letters,
        )
        for cabin, first_row, last_row, letters in _layout(cabin_sections)
    )
    airplane.capacity = sum(section.seat_count for section in sections)
    airplane.save(update_fields=["capacity", "updated_at"])


def airplane_create(
    *, model_name: str, registration: str, cabin_sections: Sequence[Mapping[str, Any]]
) -> Airplane:
    """Create an airplane with its seat layout; its capacity is the number of seats in the layout.

    Raises ValidationFailed naming `model_name`, `registration` (malformed or already used) or the
    layout (see `layout_errors`).
    """
    registration = registration.strip().upper()
    errors = {
        **_airplane_errors(model_name=model_name, registration=registration, airplane_id=None),
        **layout_errors(cabin_sections),
    }
    if errors:
        raise ValidationFailed("The airplane is invalid.", errors=errors)
    try:
        with transaction.atomic():
            airplane = Airplane.objects.create(model_name=model_name.strip(), registration=registration)
            _sections_replace(airplane, cabin_sections)
            catalogue_changed()
    except IntegrityError:  # a concurrent create took the registration between check and insert
        raise ValidationFailed(errors={"registration": ["Another airplane has this registration."]}) from None
    return airplane


def airplane_update(*, airplane_id: int, data: Mapping[str, Any]) -> Airplane:
    """Change an airplane's `model_name`, `registration` and/or `cabin_sections` (replaced whole).

    The layout of an airplane that has flights cannot change (their seats and bookings follow it):
    AirplaneInService (409). Raises AirplaneNotFound (404) and ValidationFailed as for create.
    """
    with transaction.atomic():
        airplane = airplane_lock(airplane_id=airplane_id)
        model_name = data.get("model_name", airplane.model_name)
        registration = str(data.get("registration", airplane.registration)).strip().upper()
        errors = _airplane_errors(model_name=model_name, registration=registration, airplane_id=airplane.pk)
        sections = data.get("cabin_sections")
        layout_changes = False
        if sections is not None:
            errors.update(layout_errors(sections))
            layout_changes = not errors and _layout(sections) != _layout(
                list(airplane.cabin_sections.values("cabin", "first_row", "last_row", "seat_letters"))
            )
        if errors:
            raise ValidationFailed("The airplane is invalid.", errors=errors)
        if layout_changes:
            if airplane.flights.exists():
                raise AirplaneInService("The layout of an airplane with flights cannot change.")
            _sections_replace(airplane, sections)
        airplane.model_name, airplane.registration = model_name.strip(), registration
        try:
            with transaction.atomic():
                airplane.save(update_fields=["model_name", "registration", "updated_at"])
        except IntegrityError:
            raise ValidationFailed(
                errors={"registration": ["Another airplane has this registration."]}
            ) from None
        catalogue_changed()
    return airplane


def airplane_capacity_refresh(*, airplane_id: int) -> Airplane:
    """Recompute an airplane's capacity from its sections (after the admin edited them inline).

    The admin only offers the layout for editing while the airplane has no flights. Raises
    AirplaneNotFound.
    """
    with transaction.atomic():
        airplane = airplane_lock(airplane_id=airplane_id)
        airplane.capacity = sum(section.seat_count for section in airplane.cabin_sections.all())
        airplane.save(update_fields=["capacity", "updated_at"])
        catalogue_changed()
    return airplane


def airplane_delete(*, airplane_id: int) -> None:
    """Delete an airplane that has no flights; otherwise AirplaneInService (409).

    Raises AirplaneNotFound (404).
    """
    with transaction.atomic():
        airplane = airplane_lock(airplane_id=airplane_id)
        if airplane.flights.exists():
            raise AirplaneInService("An airplane with flights cannot be deleted.")
        try:
            airplane.delete()
        except ProtectedError:
            raise AirplaneInService("An airplane with flights cannot be deleted.") from None
        catalogue_changed()


# --- Flights -------------------------------------------------------------------------------------


def _flight_errors(
    state: dict[str, Any], *, changed: set[str], flight_id: int | None
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Validate the flight as it would be after the change; return (errors, resolved objects)."""
    errors: dict[str, list[str]] = {}
    resolved: dict[str, Any] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not FLIGHT_NUMBER_RE.match(state["flight_number"] or ""):
        fail("flight_number", "Must be a 2-character airline code and 1 to 4 digits, e.g. AI101.")
    if not CURRENCY_RE.match(state["currency"] or ""):
        fail("currency", "Must be an ISO 4217 code such as INR.")
    if not GATE_RE.match(state["gate"] or ""):
        fail("gate", "Must be at most 8 letters, digits or hyphens.")
    if state["status"] not in Flight.Status.values:
        fail("status", f"Must be one of {', '.join(Flight.Status.values)}.")

    codes = {state["departure_airport"], state["arrival_airport"]}
    airports = {a.iata_code: a for a in Airport.objects.filter(iata_code__in=codes)}
    for field in ("departure_airport", "arrival_airport"):
        airport = airports.get(state[field])
        if airport is None:
            fail(field, f"No airport with the IATA code {state[field]!r}.")
        resolved[field] = airport
    if state["departure_airport"] == state["arrival_airport"]:
        fail("arrival_airport", "Must differ from the departure airport.")

    departure, arrival = state["departure_time"], state["arrival_time"]
    for field, moment in (("departure_time", departure), ("arrival_time", arrival)):
        if not isinstance(moment, datetime) or timezone.is_naive(moment):
            fail(field, "Must be a date and time with a time zone.")
    if "departure_time" not in errors and "departure_time" in changed and departure <= timezone.now():
        fail("departure_time", "Must be in the future.")
    if not errors.keys() & {"departure_time", "arrival_time"} and arrival <= departure:
        fail("arrival_time", "Must be after the departure time.")

    airplane = Airplane.objects.filter(pk=state["airplane_id"]).prefetch_related("cabin_sections").first()
    resolved["airplane"] = airplane
    if airplane is None:
        fail("airplane_id", "No such airplane.")
    cabins = {section.cabin for section in airplane.cabin_sections.all()} if airplane else set()
    for cabin, field in CABIN_FARE_FIELDS.items():
        fare = state[field]
        has_cabin = cabin in cabins
        if fare is None:
            if cabin == Cabin.ECONOMY:
                fail(field, "Required.")
            elif has_cabin:
                fail(field, f"Required: the airplane has a {Cabin(cabin).label.lower()} cabin.")
        elif not isinstance(fare, Decimal) or not 0 < fare < MAX_FARE:
            fail(field, f"Must be a positive amount below {MAX_FARE}.")
        elif airplane is not None and not has_cabin and cabin != Cabin.ECONOMY:
            fail(field, f"Must be empty: the airplane has no {Cabin(cabin).label.lower()} cabin.")

    if (
        not errors.keys() & {"flight_number", "departure_time"}
        and Flight.objects.filter(flight_number=state["flight_number"], departure_time=departure)
        .exclude(pk=flight_id)
        .exists()
    ):
        fail("flight_number", "Another flight with this number departs at this time.")
    return errors, resolved


def _flight_state(flight: Flight | None, data: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(data) - FLIGHT_WRITABLE_FIELDS
    if unknown:
        raise ValidationFailed(errors={field: ["This field cannot be written."] for field in sorted(unknown)})
    current: dict[str, Any] = {
        "flight_number": "",
        "airplane_id": None,
        "departure_airport": "",
        "arrival_airport": "",
        "departure_time": None,
        "arrival_time": None,
        "currency": "INR",
        "base_fare": None,
        "premium_economy_fare": None,
        "business_fare": None,
        "first_fare": None,
        "gate": "",
        "status": Flight.Status.SCHEDULED,
    }
    if flight is not None:
        current.update({field: getattr(flight, field) for field in FLIGHT_WRITABLE_FIELDS})
        current["departure_airport"] = flight.departure_airport.iata_code
        current["arrival_airport"] = flight.arrival_airport.iata_code
    current.update(data)
    for field in ("flight_number", "departure_airport", "arrival_airport", "currency", "gate"):
        current[field] = str(current[field] or "").strip().upper()
    return current


def _flight_conflicts(flight: Flight, state: Mapping[str, Any]) -> None:
    if flight.available_seats == flight.total_seats:
        return
    if state["airplane_id"] != flight.airplane_id:
        raise FlightHasBookings("The airplane of a flight with bookings cannot change.")
    if state["status"] == Flight.Status.CANCELLED and flight.status != Flight.Status.CANCELLED:
        raise FlightHasBookings("A flight with bookings is cancelled through its bookings' cancellation.")


def flight_validate(*, flight_id: int | None, data: Mapping[str, Any]) -> None:
    """Check a flight create (flight_id None) or change without writing.

    Raises what flight_create / flight_update would: ValidationFailed, FlightHasBookings. The
    admin's form uses it to show the errors before saving through those services.
    """
    flight = None
    if flight_id is not None:
        flight = Flight.objects.select_related("departure_airport", "arrival_airport").get(pk=flight_id)
    state = _flight_state(flight, data)
    changed = set(data) if flight is not None else set(FLIGHT_WRITABLE_FIELDS)
    errors, _ = _flight_errors(state, changed=changed, flight_id=flight_id)
    if errors:
        raise ValidationFailed("The flight is invalid.", errors=errors)
    if flight is not None:
        _flight_conflicts(flight, state)


def flight_create(
    *,
    flight_number: str,
    airplane_id: int,
    departure_airport: str,
    arrival_airport: str,
    departure_time: datetime,
    arrival_time: datetime,
    base_fare: Decimal,
    currency: str = "INR",
    premium_economy_fare: Decimal | None = None,
    business_fare: Decimal | None = None,
    first_fare: Decimal | None = None,
    gate: str = "",
    status: str = Flight.Status.SCHEDULED,
) -> Flight:
    """Schedule a flight; `total_seats` and `available_seats` are the airplane's capacity.

    Airports are IATA codes. Rules: the airports exist and differ, departure is in the future,
    arrival after departure, fares positive, a fare for exactly the cabins the airplane has
    (economy's is `base_fare`), (flight_number, departure_time) unique. Raises ValidationFailed
    naming each bad field.
    """
    data = {
        "flight_number": flight_number,
        "airplane_id": airplane_id,
        "departure_airport": departure_airport,
        "arrival_airport": arrival_airport,
        "departure_time": departure_time,
        "arrival_time": arrival_time,
        "base_fare": base_fare,
        "currency": currency,
        "premium_economy_fare": premium_economy_fare,
        "business_fare": business_fare,
        "first_fare": first_fare,
        "gate": gate,
        "status": status,
    }
    state = _flight_state(None, data)
    errors, resolved = _flight_errors(state, changed=set(FLIGHT_WRITABLE_FIELDS), flight_id=None)
    if errors:
        raise ValidationFailed("The flight is invalid.", errors=errors)
    try:
        with transaction.atomic():
            airplane = airplane_lock(airplane_id=state.pop("airplane_id"))
            flight = Flight.objects.create(
                **{
                    **state,
                    "departure_airport": resolved["departure_airport"],
                    "arrival_airport": resolved["arrival_airport"],
                    "airplane": airplane,
                    "total_seats": airplane.capacity,
                    "available_seats": airplane.capacity,
                }
            )
            catalogue_changed()
    except IntegrityError:  # a concurrent create took the same number and time
        raise ValidationFailed(
            errors={"flight_number": ["Another flight with this number departs at this time."]}
        ) from None
    return flight


def flight_update(*, flight_id: int, data: Mapping[str, Any]) -> Flight:
    """Change some writable fields of a flight (same rules as flight_create).

    Once any seat is held or sold (available_seats != total_seats) the airplane cannot change and
    the flight cannot be cancelled here (cancelling a flight with bookings cancels and refunds
    them, which the bookings app does): FlightHasBookings (409). Changing the airplane resets the
    seat counts to the new capacity and bumps `version`. Raises FlightNotFound (404),
    ValidationFailed (400).
    """
    with transaction.atomic():
        flight = flight_lock(flight_id=flight_id)
        flight.departure_airport = Airport.objects.get(pk=flight.departure_airport_id)
        flight.arrival_airport = Airport.objects.get(pk=flight.arrival_airport_id)
        state = _flight_state(flight, data)
        changed = {field for field in data if state[field] != getattr(flight, field, None)}
        errors, resolved = _flight_errors(state, changed=changed, flight_id=flight.pk)
        if errors:
            raise ValidationFailed("The flight is invalid.", errors=errors)
        _flight_conflicts(flight, state)
        airplane_changes = state["airplane_id"] != flight.airplane_id
        update_fields = ["updated_at"]
        for field in FLIGHT_WRITABLE_FIELDS - {"airplane_id", "departure_airport", "arrival_airport"}:
            setattr(flight, field, state[field])
            update_fields.append(field)
        flight.departure_airport = resolved["departure_airport"]
        flight.arrival_airport = resolved["arrival_airport"]
        update_fields += ["departure_airport", "arrival_airport"]
        if airplane_changes:
            airplane = airplane_lock(airplane_id=state["airplane_id"])
            flight.airplane = airplane
            flight.total_seats = flight.available_seats = airplane.capacity
            flight.version = F("version") + 1
            update_fields += ["airplane", "total_seats", "available_seats", "version"]
        try:
            with transaction.atomic():
                flight.save(update_fields=update_fields)
        except IntegrityError:
            raise ValidationFailed(
                errors={"flight_number": ["Another flight with this number departs at this time."]}
            ) from None
        catalogue_changed()
    flight.refresh_from_db()
    return flight


def flight_delete(*, flight_id: int) -> None:
    """Delete a flight nobody has booked; otherwise FlightHasBookings (409). Raises FlightNotFound."""
    with transaction.atomic():
        flight = flight_lock(flight_id=flight_id)
        if flight.available_seats != flight.total_seats:
            raise FlightHasBookings("A flight with bookings cannot be deleted.")
        try:
            flight.delete()
        except ProtectedError:  # bookings that ended (expired, cancelled) still reference it
            raise FlightHasBookings("A flight with bookings cannot be deleted.") from None
        catalogue_changed()
