"""Writes of flights: scheduling, changing and deleting them (cancelling one is the bookings app's).

Every write validates the whole resulting state first and raises ValidationFailed with `errors`
naming each bad field, then writes in one transaction and bumps the search cache's catalogue
version once that transaction commits.
"""

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import Action, Subject, audit_record
from apps.core.db import retry_on_lock_conflict
from apps.core.exceptions import PermissionDenied, ValidationFailed
from apps.core.locking import locked_transaction
from apps.core.permissions import staff_may
from apps.flights import events
from apps.flights.exceptions import FlightHasBookings, FlightNotCancellable
from apps.flights.locks import airplane_lock, flight_lock
from apps.flights.models import (
    CABIN_FARE_FIELDS,
    CANCELLATION_REASON_MAX_LENGTH,
    FLIGHT_NUMBER_PATTERN,
    Airplane,
    Airport,
    Cabin,
    Flight,
    flight_number_validator,
)
from apps.flights.search_cache import catalogue_changed

MAX_FARE = Decimal("100000000")  # max_digits=10, decimal_places=2
FLIGHT_NUMBER_RE = re.compile(FLIGHT_NUMBER_PATTERN)
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
GATE_RE = re.compile(r"^[A-Z0-9-]{0,8}$")

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

# What cancelling a flight needs: it cancels the flight's bookings too. The admin's cancel action and
# the flight operations page (apps/bookings/flight_operations/) ask the same.
FLIGHT_CANCEL_PERMISSIONS = ("flights.change_flight", "bookings.change_booking")


def _flight_errors(
    state: dict[str, Any], *, changed: set[str], flight_id: int | None
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Validate the flight as it would be after the change; return (errors, resolved objects)."""
    errors: dict[str, list[str]] = {}
    resolved: dict[str, Any] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not FLIGHT_NUMBER_RE.match(state["flight_number"] or ""):
        fail("flight_number", flight_number_validator.message)
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
        elif field in changed and any(entry["cabin"] == cabin for entry in state["family_fares"].values()):
            # The column is the cheapest family's price (apps/flights/services/fares.py).
            fail(field, "This cabin is priced by its fare families: change their prices.")

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
    current["family_fares"] = (flight.family_fares if flight is not None else None) or {}
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
        with locked_transaction(durable=False):
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
    with locked_transaction(durable=False):
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
            flight.seats_taken = ""  # only a flight nobody has booked changes its airplane
            flight.version = F("version") + 1
            update_fields += ["airplane", "total_seats", "available_seats", "seats_taken", "version"]
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
    with locked_transaction(durable=False):
        flight = flight_lock(flight_id=flight_id)
        if flight.available_seats != flight.total_seats:
            raise FlightHasBookings("A flight with bookings cannot be deleted.")
        try:
            flight.delete()
        except ProtectedError:  # bookings that ended (expired, cancelled) still reference it
            raise FlightHasBookings("A flight with bookings cannot be deleted.") from None
        catalogue_changed()


def cancellation_reason_clean(reason: str) -> str:
    """A flight's cancellation reason as stored: surrounding blanks dropped, at most
    CANCELLATION_REASON_MAX_LENGTH characters (ValidationFailed, 400, naming `reason`)."""
    reason = reason.strip()
    if len(reason) > CANCELLATION_REASON_MAX_LENGTH:
        raise ValidationFailed(
            "The reason is too long.",
            errors={"reason": [f"Must be at most {CANCELLATION_REASON_MAX_LENGTH} characters."]},
        )
    return reason


def flight_cancel_refusal(flight: Flight, now: datetime) -> str | None:
    """Why `flight` can no longer be cancelled at `now` (a sentence), or None."""
    if flight.has_departed(now):
        return "The flight has departed."
    return None


@retry_on_lock_conflict
def flight_cancel(*, flight_id: int, actor: User, reason: str = "") -> Flight:
    """The airline cancels a flight: it leaves search at once and `flight_cancelled` is published.

    `reason` is told to its travellers (the flight and booking pages, the "flight cancelled" email):
    stored as `cancellation_reason`, surrounding blanks dropped, at most
    CANCELLATION_REASON_MAX_LENGTH characters (ValidationFailed, 400, naming `reason`), and in the
    audit row's detail.

    The bookings app cancels and refunds its bookings when this commits (and its periodic job
    finishes any it could not reach then). Audited "flight_cancelled" once: cancelling a cancelled
    flight changes nothing, its first reason included. Raises PermissionDenied (403) without
    flights.change_flight and bookings.change_booking, FlightNotFound (404), FlightNotCancellable
    (409) for a departed flight.
    """
    if not staff_may(actor, *FLIGHT_CANCEL_PERMISSIONS):
        raise PermissionDenied("Cancelling a flight needs flights.change_flight and bookings.change_booking.")
    reason = cancellation_reason_clean(reason)
    with locked_transaction():
        flight = flight_lock(flight_id=flight_id)
        if refusal := flight_cancel_refusal(flight, timezone.now()):
            raise FlightNotCancellable(refusal)
        if flight.status == Flight.Status.CANCELLED:
            return flight
        flight.status = Flight.Status.CANCELLED
        flight.cancellation_reason = reason
        flight.save(update_fields=["status", "cancellation_reason", "updated_at"])
        audit_record(
            action=Action.FLIGHT_CANCELLED,
            subject_type=Subject.FLIGHT,
            subject_ref=str(flight.pk),
            actor=actor,
            detail={
                "flight_number": flight.flight_number,
                "departure_time": flight.departure_time.isoformat(),
                "reason": reason,
            },
        )
        # A cancelled flight must leave search results at once, not after the cache TTL.
        catalogue_changed()
        events.flight_cancelled.publish(events.FlightCancelled(flight=flight, actor=actor))
    return flight
