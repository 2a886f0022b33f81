"""Creating a seat hold: one interface, two locking strategies (docs/ARCHITECTURE.md, "Holds").

Everything that can be decided without a lock (input, the flight, its layout, requested seats)
is decided first; the locked section then only re-checks, inserts and moves the counter, because
the hot flight row's lock hold time is the ceiling on throughput (docs/PROFILE.md).
"""

import functools
import logging
import random
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NoReturn

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings import events
from apps.bookings.exceptions import (
    FlightNotBookable,
    SeatUnavailable,
    SeatUnknown,
    SoldOut,
)
from apps.bookings.models import REFERENCE_ALPHABET, REFERENCE_LENGTH, Booking, Passenger, SeatAssignment
from apps.bookings.services.seat_selection import seats_choose
from apps.core.audit import Action, Subject, audit_record
from apps.core.db import retry_on_lock_conflict
from apps.core.exceptions import Busy, ValidationFailed
from apps.core.locking import locked_transaction
from apps.core.request_context import log_context_update
from apps.flights.exceptions import FlightNotFound
from apps.flights.locks import flight_lock
from apps.flights.models import MAX_PARTY_SIZE, Cabin, CabinSection, Flight
from apps.flights.seating import Seat, seats_from_sections
from apps.flights.services.seats import flight_seats_take, flight_seats_take_if_on_sale

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 100
# A fresh reference collides about once in 10^9 holds; a few tries make failure practically impossible.
REFERENCE_ATTEMPTS = 5
# Optimistic: attempts after a seat collision (auto-assigned seats only), each in a new transaction.
OPTIMISTIC_ATTEMPTS = 3
OPTIMISTIC_JITTER_SECONDS = 0.01

_rng = random.Random()


@dataclass(frozen=True)
class HoldRequest:
    """A validated hold request, ready for the locked section."""

    user: User
    flight: Flight
    names: list[tuple[str, str]]
    sellable: list[Seat]  # the airplane's seats whose cabin has a fare on this flight
    requested: list[Seat] | None  # None: assign seats

    @property
    def count(self) -> int:
        return len(self.names)


@retry_on_lock_conflict
def booking_hold_create(
    *,
    user: User,
    flight_id: int,
    passengers: Sequence[Mapping[str, str]],
    seats: Sequence[str] | None = None,
) -> Booking:
    """Hold one seat per passenger on a flight for BOOKING_HOLD_SECONDS.

    Rules: 1–9 passengers with non-blank names; requested seats (one per passenger, none repeated)
    must exist on the airplane and be free, otherwise seats are assigned (cheapest cabin first,
    passengers of one booking together); the flight must be scheduled and leave at least
    BOOKING_MIN_MINUTES_BEFORE_DEPARTURE minutes from now; the amount is the sum of the seats'
    cabin fares, in the flight's currency. BOOKING_LOCK_STRATEGY (read per call) picks how the
    flight's seat counter is protected. Publishes `booking_held` and audits "created" in the same
    transaction; later log lines of the request carry the booking reference.

    Raises ValidationFailed (400), FlightNotFound (404), SeatUnknown (422), FlightNotBookable,
    SoldOut, SeatUnavailable or Busy (409).
    """
    strategy = _STRATEGIES.get(settings.BOOKING_LOCK_STRATEGY)
    if strategy is None:
        raise ImproperlyConfigured(f"Unknown BOOKING_LOCK_STRATEGY {settings.BOOKING_LOCK_STRATEGY!r}")
    request = _hold_request_build(user=user, flight_id=flight_id, passengers=passengers, seats=seats)
    for _ in range(REFERENCE_ATTEMPTS):
        try:
            booking = strategy(request)
            log_context_update(booking_reference=booking.reference)
            return booking
        except IntegrityError as error:
            if _is_seat_collision(error):
                # Only a bug in the locking gets here: the unique key refused to sell a seat twice.
                logger.error("Seat collision under the %s strategy", settings.BOOKING_LOCK_STRATEGY)
                raise SeatUnavailable("A requested seat was taken a moment ago.") from None
            if not _is_reference_collision(error):
                raise
            logger.info("Booking reference collision, retrying with a new reference")
    raise Busy("Could not allocate a booking reference.")


def _hold_request_build(
    *, user: User, flight_id: int, passengers: Sequence[Mapping[str, str]], seats: Sequence[str] | None
) -> HoldRequest:
    names = _names_clean(passengers)
    codes = _seat_codes_clean(seats, len(names))
    flight = Flight.objects.filter(pk=flight_id).first()
    if flight is None:
        raise FlightNotFound(f"Flight {flight_id} does not exist.")
    _bookable_ensure(flight, timezone.now())
    priced_cabins = frozenset(cabin for cabin in Cabin.values if flight.fare_for(cabin) is not None)
    layout = tuple(
        CabinSection.objects.filter(airplane_id=flight.airplane_id)
        .order_by("first_row")
        .values_list("cabin", "first_row", "last_row", "seat_letters")
    )
    sellable = list(_sellable_seats(layout, priced_cabins))
    requested = None
    if codes:
        by_code = {seat.code: seat for seat in sellable}
        unknown = [code for code in codes if code not in by_code]
        if unknown:
            raise SeatUnknown(
                f"No such seat on this flight: {', '.join(unknown)}.",
                errors={"seats": [f"Seat {code} does not exist on this flight." for code in unknown]},
            )
        requested = [by_code[code] for code in codes]
    return HoldRequest(user=user, flight=flight, names=names, sellable=sellable, requested=requested)


@functools.lru_cache(maxsize=256)
def _sellable_seats(
    layout: tuple[tuple[str, int, int, str], ...], priced_cabins: frozenset[str]
) -> tuple[Seat, ...]:
    """The seats of a layout in the priced cabins, built once per process for each layout.

    Keyed by the layout's content (read on every hold), so an edited layout is seen at once; building
    the seat list of a large airplane on every hold cost more than the rest of the validation.
    """
    sections = [
        CabinSection(cabin=cabin, first_row=first_row, last_row=last_row, seat_letters=letters)
        for cabin, first_row, last_row, letters in layout
    ]
    return tuple(seat for seat in seats_from_sections(sections) if seat.cabin in priced_cabins)


def _names_clean(passengers: Sequence[Mapping[str, str]]) -> list[tuple[str, str]]:
    if not 1 <= len(passengers) <= MAX_PARTY_SIZE:
        raise ValidationFailed(
            f"A booking has 1 to {MAX_PARTY_SIZE} passengers.",
            errors={"passengers": [f"Give from 1 to {MAX_PARTY_SIZE} passengers."]},
        )
    names: list[tuple[str, str]] = []
    errors: dict[str, list[str]] = {}
    for index, passenger in enumerate(passengers):
        cleaned = []
        for field in ("first_name", "last_name"):
            value = str(passenger.get(field) or "").strip()
            if not value:
                errors[f"passengers.{index}.{field}"] = ["This field may not be blank."]
            elif len(value) > NAME_MAX_LENGTH:
                errors[f"passengers.{index}.{field}"] = [f"At most {NAME_MAX_LENGTH} characters."]
            cleaned.append(value)
        names.append((cleaned[0], cleaned[1]))
    if errors:
        raise ValidationFailed("Every passenger needs a first and a last name.", errors=errors)
    return names


def _seat_codes_clean(seats: Sequence[str] | None, count: int) -> list[str] | None:
    if not seats:
        return None
    codes = [str(code).strip().upper() for code in seats]
    if len(codes) != count:
        raise ValidationFailed(
            "Request one seat per passenger, or none.",
            errors={"seats": [f"Give {count} seat(s), one per passenger, or leave seats out."]},
        )
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise ValidationFailed(
            "A seat is requested more than once.",
            errors={"seats": [f"Seat {code} is requested more than once." for code in repeated]},
        )
    return codes


def _bookable_ensure(flight: Flight, now: datetime) -> None:
    reason = flight.sale_closed_reason(now)
    if reason is not None:
        raise FlightNotBookable(reason)


def _active_seat_codes(flight_id: int, among: list[Seat] | None = None) -> set[str]:
    """Codes of the flight's seats held or sold (only those of `among`, if given)."""
    assignments = SeatAssignment.objects.filter(flight_id=flight_id, active=True)
    if among is not None:
        assignments = assignments.filter(seat_code__in=[seat.code for seat in among])
    return set(assignments.values_list("seat_code", flat=True))


def _hold_pessimistic(request: HoldRequest) -> Booking:
    """Lock the flight row first, re-check under it, insert, decrement last.

    Seats are chosen from a read made before the lock; under the lock only the chosen seats are
    re-checked (a short indexed read), and only if one was taken meanwhile is the whole seat map
    read again there.
    """
    flight_id = request.flight.pk
    seats = _seats_pick(request, _active_seat_codes(flight_id, among=request.requested))
    with locked_transaction():
        flight = flight_lock(flight_id=flight_id)
        now = timezone.now()
        _bookable_ensure(flight, now)
        if flight.available_seats < request.count:
            raise SoldOut(f"{flight.available_seats} seat(s) left.")
        if _active_seat_codes(flight_id, among=seats):
            seats = _seats_pick(request, _active_seat_codes(flight_id, among=request.requested))
        booking = _booking_insert(request, flight=flight, seats=seats, now=now)
        flight_seats_take(flight_id=flight.pk, count=request.count)
        events.booking_held.publish(events.BookingHeld(booking=booking))
    return booking


def _hold_optimistic(request: HoldRequest) -> Booking:
    """No lock taken in code: a conditional decrement, and the unique seat key decides collisions.

    The decrement runs first in the transaction: the inserts' foreign-key checks take a shared
    lock on the flight row, so inserting first would make concurrent holds deadlock upgrading it.
    A seat collision with an auto-assigned seat is retried in a new transaction after a jittered
    pause; a retry reads the taken seats after its decrement, when every earlier hold has
    committed, so it cannot collide again with a hold.
    """
    flight_id = request.flight.pk
    for attempt in range(1, OPTIMISTIC_ATTEMPTS + 1):
        seats = (
            None
            if attempt > 1
            else _seats_pick(request, _active_seat_codes(flight_id, among=request.requested))
        )
        now = timezone.now()
        try:
            with transaction.atomic(durable=True):
                if not flight_seats_take_if_on_sale(flight_id=flight_id, count=request.count, now=now):
                    _refusal_raise(flight_id, request.count, now)
                if seats is None:
                    seats = _seats_pick(request, _active_seat_codes(flight_id, among=request.requested))
                booking = _booking_insert(request, flight=request.flight, seats=seats, now=now)
                events.booking_held.publish(events.BookingHeld(booking=booking))
            return booking
        except IntegrityError as error:
            if not _is_seat_collision(error):
                raise
            if request.requested is not None:
                raise SeatUnavailable("A requested seat was taken a moment ago.") from None
            logger.info("Seat collision on flight %s, attempt %s", flight_id, attempt)
            time.sleep(_rng.uniform(0, OPTIMISTIC_JITTER_SECONDS * attempt))
    raise Busy("The flight is very busy; try again.")


def _refusal_raise(flight_id: int, count: int, now: datetime) -> NoReturn:
    """The conditional decrement matched no row: say why, from the flight as it is now."""
    flight = Flight.objects.get(pk=flight_id)
    _bookable_ensure(flight, now)
    raise SoldOut(f"{flight.available_seats} seat(s) left.")


def _seats_pick(request: HoldRequest, taken: set[str]) -> list[Seat]:
    if request.requested is not None:
        unavailable = [seat.code for seat in request.requested if seat.code in taken]
        if unavailable:
            raise SeatUnavailable(
                f"Seat(s) already taken: {', '.join(unavailable)}.",
                errors={"seats": [f"Seat {code} is taken." for code in unavailable]},
            )
        return request.requested
    chosen = seats_choose(seats=request.sellable, taken=taken, count=request.count, rng=_rng)
    if chosen is None:
        raise SoldOut("Not enough free seats left.")
    return chosen


def _booking_insert(request: HoldRequest, *, flight: Flight, seats: list[Seat], now: datetime) -> Booking:
    fares = [flight.fare_for(seat.cabin) for seat in seats]
    booking = Booking.objects.create(
        reference=_reference_new(),
        owner=request.user,
        flight=flight,
        status=Booking.Status.HELD,
        total_amount=sum(fares, Decimal("0")),
        currency=flight.currency,
        hold_expires_at=now + timedelta(seconds=settings.BOOKING_HOLD_SECONDS),
    )
    passengers = Passenger.objects.bulk_create(
        [
            Passenger(booking=booking, position=position, first_name=first, last_name=last)
            for position, (first, last) in enumerate(request.names, start=1)
        ]
    )
    SeatAssignment.objects.bulk_create(
        [
            SeatAssignment(
                flight_id=flight.pk,
                booking=booking,
                passenger=passenger,
                seat_code=seat.code,
                cabin=seat.cabin,
                fare=fare,
            )
            for passenger, seat, fare in zip(passengers, seats, fares, strict=True)
        ]
    )
    audit_record(
        action=Action.CREATED,
        subject_type=Subject.BOOKING,
        subject_ref=booking.reference,
        actor=request.user,
        detail={
            "flight_id": flight.pk,
            "seats": [seat.code for seat in seats],
            "total_amount": str(booking.total_amount),
            "currency": booking.currency,
        },
    )
    return booking


def _reference_new() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def _is_reference_collision(error: IntegrityError) -> bool:
    message = str(error)
    return "'reference'" in message or "bookings_booking.reference" in message


def _is_seat_collision(error: IntegrityError) -> bool:
    message = str(error)
    return "seat_assignment_active_unique" in message or "bookings_seatassignment.seat_code" in message


_STRATEGIES: dict[str, Callable[[HoldRequest], Booking]] = {
    "pessimistic": _hold_pessimistic,
    "optimistic": _hold_optimistic,
}
