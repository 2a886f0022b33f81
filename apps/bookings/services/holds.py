"""Creating a seat hold: one interface, two locking strategies (docs/ARCHITECTURE.md, "Holds").

Everything that can be decided without a lock is decided first: the input, the flight (with what an
answer shows of it), its seat layout (read once per process), the requested seats. The transaction
then re-checks the sale rule, chooses or re-checks the seats against the flight row's own record of
taken seats (`Flight.seats_taken`: no read of the flight's seat assignments), and writes in the
fewest statements: the booking, its passengers, their seats, the audit row, the inventory, the
outbox row, and the caller's `before_commit` (the idempotency key's answer, in this same
transaction). The hot flight row's lock hold time is the ceiling on throughput (docs/PROFILE.md).
"""

import logging
import random
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings import events
from apps.bookings.exceptions import FlightNotBookable, SeatUnavailable, SeatUnknown, SoldOut
from apps.bookings.models import REFERENCE_ALPHABET, REFERENCE_LENGTH, Booking, Passenger, SeatAssignment
from apps.bookings.services.seat_selection import SeatPlan, seat_plan, seats_choose
from apps.core.audit import Action, Subject, audit_record
from apps.core.db import retry_on_lock_conflict
from apps.core.exceptions import Busy, ValidationFailed
from apps.core.locking import locked_transaction
from apps.core.request_context import log_context_update
from apps.flights.locks import flight_lock_for_hold
from apps.flights.models import MAX_PARTY_SIZE, Cabin, Flight
from apps.flights.seating import Seat, airplane_layout, is_taken
from apps.flights.selectors import flight_get_for_hold
from apps.flights.services.seats import (
    flight_seats_mark,
    flight_seats_reserve,
    flight_seats_take,
    flight_seats_take_if_free,
)

logger = logging.getLogger(__name__)

NAME_MAX_LENGTH = 100
# A fresh reference collides about once in 10^9 holds; a few tries make failure practically impossible.
REFERENCE_ATTEMPTS = 5

_rng = random.Random()

BeforeCommit = Callable[[Booking], None]


@dataclass(frozen=True)
class HoldRequest:
    """A validated hold request, ready for the transaction."""

    user: User
    flight: Flight  # read before the transaction, with its airplane, airports and cities
    names: list[tuple[str, str]]
    plan: SeatPlan  # the seats the flight sells
    requested: list[Seat] | None  # None: assign seats
    before_commit: BeforeCommit | None

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
    before_commit: BeforeCommit | None = None,
) -> Booking:
    """Hold one seat per passenger on a flight for BOOKING_HOLD_SECONDS.

    Rules: 1–9 passengers with non-blank names; requested seats (one per passenger, none repeated)
    must exist on the airplane and be free, otherwise seats are assigned (cheapest cabin first,
    passengers of one booking together); the flight must be on sale (`Flight.sale_closed_reason`);
    the amount is the sum of the seats' cabin fares, in the flight's currency. BOOKING_LOCK_STRATEGY
    (read per call) picks how the flight's inventory is protected. Publishes `booking_held` and
    audits "created" in the same transaction, and calls `before_commit(booking)` last in it; later
    log lines of the request carry the booking reference.

    The booking returned carries what an answer shows without reading it again: `booking.flight` with
    its airplane, airports and cities (`available_seats` as the hold left it), and `passengers_held`,
    its passengers in order, each with its `seat_assignment`.

    Raises ValidationFailed (400), FlightNotFound (404), SeatUnknown (422), FlightNotBookable,
    SoldOut, SeatUnavailable or Busy (409), and whatever `before_commit` raises (nothing is held).
    """
    strategy = _STRATEGIES.get(settings.BOOKING_LOCK_STRATEGY)
    if strategy is None:
        raise ImproperlyConfigured(f"Unknown BOOKING_LOCK_STRATEGY {settings.BOOKING_LOCK_STRATEGY!r}")
    request = _hold_request_build(
        user=user, flight_id=flight_id, passengers=passengers, seats=seats, before_commit=before_commit
    )
    for _ in range(REFERENCE_ATTEMPTS):
        try:
            booking = strategy(request)
            log_context_update(booking_reference=booking.reference)
            return booking
        except IntegrityError as error:
            if _is_seat_collision(error):
                # Only a bug in the inventory gets here: the unique key refused to sell a seat twice.
                logger.error("Seat collision under the %s strategy", settings.BOOKING_LOCK_STRATEGY)
                raise SeatUnavailable("A requested seat was taken a moment ago.") from None
            if not _is_reference_collision(error):
                raise
            logger.info("Booking reference collision, retrying with a new reference")
    raise Busy("Could not allocate a booking reference.")


def _hold_request_build(
    *,
    user: User,
    flight_id: int,
    passengers: Sequence[Mapping[str, str]],
    seats: Sequence[str] | None,
    before_commit: BeforeCommit | None,
) -> HoldRequest:
    names = _names_clean(passengers)
    codes = _seat_codes_clean(seats, len(names))
    flight = flight_get_for_hold(flight_id=flight_id)
    _bookable_ensure(flight, timezone.now())
    priced_cabins = frozenset(cabin for cabin in Cabin.values if flight.fare_for(cabin) is not None)
    plan = seat_plan(airplane_layout(flight.airplane_id, flight.airplane.updated_at), priced_cabins)
    requested = None
    if codes:
        unknown = [code for code in codes if code not in plan.by_code]
        if unknown:
            raise SeatUnknown(
                f"No such seat on this flight: {', '.join(unknown)}.",
                errors={"seats": [f"Seat {code} does not exist on this flight." for code in unknown]},
            )
        requested = [plan.by_code[code] for code in codes]
        # Taken already when the flight was read: refused without touching the lock.
        _requested_free_ensure(requested, flight.seats_taken)
    return HoldRequest(
        user=user, flight=flight, names=names, plan=plan, requested=requested, before_commit=before_commit
    )


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


def _requested_free_ensure(requested: list[Seat], seats_taken: str) -> None:
    unavailable = [seat.code for seat in requested if is_taken(seats_taken, seat.position)]
    if unavailable:
        raise SeatUnavailable(
            f"Seat(s) already taken: {', '.join(unavailable)}.",
            errors={"seats": [f"Seat {code} is taken." for code in unavailable]},
        )


def _seats_pick(request: HoldRequest, seats_taken: str) -> list[Seat]:
    if request.requested is not None:
        _requested_free_ensure(request.requested, seats_taken)
        return request.requested
    chosen = seats_choose(plan=request.plan, taken=seats_taken, count=request.count, rng=_rng)
    if chosen is None:
        raise SoldOut("Not enough free seats left.")
    return chosen


def _hold_pessimistic(request: HoldRequest) -> Booking:
    """Lock the flight row, then decide everything from it: the sale rule, the seats (its
    `seats_taken`), the counter; insert; move the inventory last."""
    with locked_transaction():
        flight = flight_lock_for_hold(flight_id=request.flight.pk)
        now = timezone.now()
        _bookable_ensure(flight, now)
        if flight.available_seats < request.count:
            raise SoldOut(f"{flight.available_seats} seat(s) left.")
        seats = _seats_pick(request, flight.seats_taken)
        booking = _booking_insert(request, priced_by=flight, seats=seats, now=now)
        flight_seats_take(flight=flight, positions=[seat.position for seat in seats])
        request.flight.available_seats = flight.available_seats
        _held(request, booking)
    return booking


def _hold_optimistic(request: HoldRequest) -> Booking:
    """No lock taken in code: conditional UPDATEs decide, in the database, what each hold gets.

    First, one UPDATE takes the seats chosen from the flight as last read, only if the flight is on
    sale, has that many seats left and each chosen seat is still free; it marks them taken itself,
    so concurrent holds of other seats are never overwritten. It runs first in the transaction: the
    inserts' foreign-key checks take a shared lock on the flight row, so inserting first would make
    concurrent holds deadlock upgrading it. When it matches no row, the flight is read again: sold
    out or closed is answered; otherwise a chosen seat was taken meanwhile, and a new transaction
    takes the seats off the counter first (a conditional UPDATE that cannot collide) and then
    chooses them from the marks, which that UPDATE's row lock keeps exact until the commit.
    """
    seats = _seats_pick(request, request.flight.seats_taken)
    now = timezone.now()
    with locked_transaction():
        if flight_seats_take_if_free(
            flight=request.flight, positions=[seat.position for seat in seats], now=now
        ):
            booking = _booking_insert(request, priced_by=request.flight, seats=seats, now=now)
            request.flight.available_seats -= request.count
            _held(request, booking)
            return booking
    _refusal_ensure(request, now)
    logger.info("A chosen seat was taken meanwhile on flight %s; choosing again", request.flight.pk)
    now = timezone.now()
    with locked_transaction():
        seats_taken = flight_seats_reserve(flight_id=request.flight.pk, count=request.count, now=now)
        if seats_taken is None:
            _refusal_ensure(request, now)
            raise Busy("The flight is very busy; try again.")
        seats = _seats_pick(request, seats_taken)
        flight_seats_mark(
            flight_id=request.flight.pk, seats_taken=seats_taken, positions=[seat.position for seat in seats]
        )
        booking = _booking_insert(request, priced_by=request.flight, seats=seats, now=now)
        request.flight.available_seats -= request.count
        _held(request, booking)
    return booking


def _refusal_ensure(request: HoldRequest, now: datetime) -> None:
    """After a conditional UPDATE matched no row: raise what the flight, read again, says is wrong."""
    flight = Flight.objects.only("status", "departure_time", "available_seats").get(pk=request.flight.pk)
    _bookable_ensure(flight, now)
    if flight.available_seats < request.count:
        raise SoldOut(f"{flight.available_seats} seat(s) left.")


def _held(request: HoldRequest, booking: Booking) -> None:
    """The end of the hold's transaction: announce it, then the caller's last word."""
    events.booking_held.publish(events.BookingHeld(booking=booking))
    if request.before_commit is not None:
        request.before_commit(booking)


def _booking_insert(request: HoldRequest, *, priced_by: Flight, seats: list[Seat], now: datetime) -> Booking:
    """Insert the booking, its passengers and their seats (three statements) and the audit row, and
    return the booking as the ORM would have left it.

    The statements are written here rather than built by the ORM: they run on every hold, under the
    flight's lock with the pessimistic strategy, and building them cost several times what the
    database spends on them (docs/PROFILE.md). `priced_by` is the flight row the fares come from
    (the locked row, where there is one).
    """
    fares = [priced_by.fare_for(seat.cabin) for seat in seats]
    booking = Booking(
        reference=_reference_new(),
        owner=request.user,
        flight=request.flight,
        status=Booking.Status.HELD,
        total_amount=sum(fares, Decimal("0")),
        currency=priced_by.currency,
        hold_expires_at=now + timedelta(seconds=settings.BOOKING_HOLD_SECONDS),
        created_at=now,
        updated_at=now,
    )
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Booking._meta.db_table} (created_at, updated_at, reference, owner_id, flight_id,"
            " status, total_amount, currency, hold_expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                ops.adapt_datetimefield_value(now),
                ops.adapt_datetimefield_value(now),
                booking.reference,
                request.user.pk,
                request.flight.pk,
                booking.status,
                ops.adapt_decimalfield_value(booking.total_amount, 12, 2),
                booking.currency,
                ops.adapt_datetimefield_value(booking.hold_expires_at),
            ],
        )
        booking.pk = cursor.lastrowid
        passengers = [
            Passenger(booking=booking, position=position, first_name=first, last_name=last)
            for position, (first, last) in enumerate(request.names, start=1)
        ]
        _passengers_insert(cursor, passengers)
        assignments = [
            SeatAssignment(
                flight_id=request.flight.pk,
                booking=booking,
                passenger=passenger,  # also caches passenger.seat_assignment for the answer
                seat_code=seat.code,
                cabin=seat.cabin,
                fare=fare,
            )
            for passenger, seat, fare in zip(passengers, seats, fares, strict=True)
        ]
        cursor.execute(
            f"INSERT INTO {SeatAssignment._meta.db_table} (flight_id, booking_id, passenger_id, seat_code,"
            f" cabin, fare, active) VALUES {', '.join(['(%s, %s, %s, %s, %s, %s, %s)'] * len(assignments))}",
            [
                value
                for assignment in assignments
                for value in (
                    assignment.flight_id,
                    booking.pk,
                    assignment.passenger.pk,
                    assignment.seat_code,
                    assignment.cabin,
                    ops.adapt_decimalfield_value(assignment.fare, 10, 2),
                    True,
                )
            ],
        )
    for instance in (booking, *passengers, *assignments):
        instance._state.adding, instance._state.db = False, connection.alias
    booking.passengers_held = passengers
    audit_record(
        action=Action.CREATED,
        subject_type=Subject.BOOKING,
        subject_ref=booking.reference,
        actor=request.user,
        detail={
            "flight_id": request.flight.pk,
            "seats": [seat.code for seat in seats],
            "total_amount": str(booking.total_amount),
            "currency": booking.currency,
        },
    )
    return booking


def _passengers_insert(cursor, passengers: list[Passenger]) -> None:
    """Insert the passengers in one statement and set their ids (by position: RETURNING's row order
    is not promised); one statement each where the database cannot return ids from a bulk insert."""
    table = Passenger._meta.db_table
    columns = "booking_id, position, first_name, last_name"
    rows = [(p.booking.pk, p.position, p.first_name, p.last_name) for p in passengers]
    if connection.features.can_return_rows_from_bulk_insert:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {', '.join(['(%s, %s, %s, %s)'] * len(rows))}"
            " RETURNING id, position",
            [value for row in rows for value in row],
        )
        ids = dict((position, pk) for pk, position in cursor.fetchall())
        for passenger in passengers:
            passenger.pk = ids[passenger.position]
        return
    for passenger, row in zip(passengers, rows, strict=True):
        cursor.execute(f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s)", list(row))
        passenger.pk = cursor.lastrowid


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
