"""Creating a seat hold: one interface, two locking strategies (docs/ARCHITECTURE.md, "Holds").

Everything that can be decided without a lock is decided first: the input, the flight (with what an
answer shows of it), its seat layout (read once per process), the requested seats. The transaction
then re-checks the sale rule, chooses or re-checks the seats against the flight row's own record of
taken seats (`Flight.seats_taken`: no read of the flight's seat assignments), and writes in the
fewest statements: the booking, its passengers, their seats, the audit row, the inventory, the
outbox row, and the caller's `before_commit` (the idempotency key's answer, in this same
transaction). The hot flight row's lock hold time is the ceiling on throughput (docs/PROFILE.md).
"""

import itertools
import json
import logging
import random
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection
from django.utils import timezone
from django.utils.dateparse import parse_date

from apps.accounts.models import User
from apps.bookings import events
from apps.bookings.exceptions import FlightNotBookable, SeatUnavailable, SeatUnknown, SoldOut
from apps.bookings.models import (
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    Booking,
    InfantFare,
    Passenger,
    SeatAssignment,
)
from apps.bookings.pricing import passenger_fare
from apps.bookings.services.seat_selection import SeatPlan, seat_plan, seats_choose
from apps.core.audit import Action, Subject, audit_record
from apps.core.db import retry_on_lock_conflict
from apps.core.exceptions import Busy, ValidationFailed
from apps.core.locking import locked_transaction
from apps.core.request_context import log_context_update
from apps.flights.fares import airport_charge, fare_family_catalogue_cached, price_split
from apps.flights.journeys import journey_connection_problem
from apps.flights.locks import flight_lock_for_hold
from apps.flights.models import MAX_PARTY_SIZE, MAX_SEGMENTS, Cabin, Flight
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
class SegmentRequest:
    """One flight of a hold: validated, read before the transaction."""

    position: int  # 1-based, in journey order
    flight: Flight  # with its airplane, airports and cities
    plan: SeatPlan  # the seats the flight sells (the chosen family's cabin only, where one is chosen)
    requested: list[Seat] | None  # None: assign seats
    fare_family: str | None = None  # the code chosen; None: each seat's cabin's cheapest family

    def label(self, segments: int) -> str:
        """How an answer names this segment: "" for a one-flight booking."""
        return f"Flight {self.position} ({self.flight.flight_number}): " if segments > 1 else ""


@dataclass(frozen=True)
class PassengerRequest:
    """One passenger of a hold, its name cleaned and its type checked (docs/PASSENGERS.md)."""

    position: int  # 1-based
    first_name: str
    last_name: str
    type: str
    date_of_birth: date | None
    travelling_with: int | None  # an infant's adult's position

    @property
    def seated(self) -> bool:
        return self.type in Passenger.SEATED_TYPES


@dataclass(frozen=True)
class HoldRequest:
    """A validated hold request, ready for the transaction."""

    user: User
    segments: list[SegmentRequest]  # in journey order
    passengers: list[PassengerRequest]
    before_commit: BeforeCommit | None

    @property
    def flight(self) -> Flight:
        """The journey's first flight (the booking's `flight`)."""
        return self.segments[0].flight

    @property
    def count(self) -> int:
        """The seats held on each flight: one per adult and child (an infant has none)."""
        return sum(1 for passenger in self.passengers if passenger.seated)

    def by_flight_id(self) -> list[SegmentRequest]:
        """The segments in the order their flights are locked: ascending flight id."""
        return sorted(self.segments, key=lambda segment: segment.flight.pk)


@retry_on_lock_conflict
def booking_hold_create(
    *,
    user: User,
    passengers: Sequence[Mapping[str, str]],
    flight_id: int | None = None,
    seats: Sequence[str] | None = None,
    fare_family: str | None = None,
    segments: Sequence[Mapping[str, Any]] | None = None,
    before_commit: BeforeCommit | None = None,
) -> Booking:
    """Hold one seat per passenger on a flight, or on each flight of a journey, for BOOKING_HOLD_SECONDS.

    A one-way hold names `flight_id` (and optionally `seats` and `fare_family`); a journey (return,
    multi-city) names `segments`, 1 to MAX_SEGMENTS of {"flight_id", optional "seats", optional
    "fare_family"} in travel order, different flights
    in one currency, each leaving at least JOURNEY_MIN_CONNECTION_MINUTES after the previous lands
    (`journey_connection_problem`). All or nothing: every segment's seats are taken in one transaction,
    the flights locked by ascending id (docs/ARCHITECTURE.md, "Locks"); if any segment cannot be held,
    nothing is, and the answer names the segment.

    Passengers (docs/PASSENGERS.md): 1–9 with non-blank names, each an adult (the default), a child or
    an infant by age on the first flight's local departure date (`passenger_types_ensure`); at least one
    adult, each infant on the lap of a different adult (`travelling_with`, that adult's position). An
    infant takes no seat: it has an InfantFare per segment instead of a SeatAssignment.

    Rules per flight: requested seats (one per adult or child in passenger order, none
    repeated) must exist on the airplane and be free, otherwise seats are assigned (cheapest cabin first,
    passengers of one booking together); the flight must be on sale (`Flight.sale_closed_reason`);
    a fare family (a code sold on that flight, `Flight.family_fares`, else ValidationFailed naming
    `fare_family` or `segments.<i>.fare_family`) puts every seat of the segment in the family's cabin
    at its price; without one each seat costs its cabin's fare (its cheapest family). A child pays
    `passenger_fare` of its seat's price, an infant of its adult's on each flight (the family's
    shares). Each seat stores its price split into base fare and taxes (apps/flights/fares.py); the
    amount is the sum of the seats' and infants' prices, in the flights' currency. BOOKING_LOCK_STRATEGY
    (read per call) picks how the flights' inventory is protected. Publishes `booking_held` and
    audits "created" in the same transaction, and calls `before_commit(booking)` last in it; later
    log lines of the request carry the booking reference.

    The booking returned carries what an answer shows without reading it again: `booking.flight` with
    its airplane, airports and cities (`available_seats` as the hold left it), `segment_flights` (each
    segment's flight, likewise), and `passengers_held`, its passengers in order, each with its seat
    assignments (`Passenger.seat_on`).

    Raises ValidationFailed (400), FlightNotFound (404), SeatUnknown (422), FlightNotBookable,
    SoldOut, SeatUnavailable or Busy (409), and whatever `before_commit` raises (nothing is held).
    """
    strategy = _STRATEGIES.get(settings.BOOKING_LOCK_STRATEGY)
    if strategy is None:
        raise ImproperlyConfigured(f"Unknown BOOKING_LOCK_STRATEGY {settings.BOOKING_LOCK_STRATEGY!r}")
    request = _hold_request_build(
        user=user,
        passengers=passengers,
        segments=_segments_given(
            flight_id=flight_id, seats=seats, fare_family=fare_family, segments=segments
        ),
        before_commit=before_commit,
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


def _segments_given(
    *,
    flight_id: int | None,
    seats: Sequence[str] | None,
    fare_family: str | None,
    segments: Sequence[Mapping[str, Any]] | None,
) -> list[tuple[int, Sequence[str] | None, str | None]]:
    """(flight id, seats, fare family) per segment, from either form of the request."""
    if segments is None:
        if flight_id is None:
            raise ValidationFailed("Name a flight.", errors={"flight_id": ["This field is required."]})
        return [(flight_id, seats, fare_family or None)]
    if flight_id is not None or seats or fare_family:
        raise ValidationFailed(
            "Give either flight_id (and seats) or segments, not both.",
            errors={"segments": ["Give either flight_id or segments."]},
        )
    if not 1 <= len(segments) <= MAX_SEGMENTS:
        raise ValidationFailed(
            f"A booking has 1 to {MAX_SEGMENTS} flights.",
            errors={"segments": [f"Give from 1 to {MAX_SEGMENTS} flights."]},
        )
    given = [
        (segment["flight_id"], segment.get("seats"), segment.get("fare_family") or None)
        for segment in segments
    ]
    ids = [flight for flight, _, _ in given]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(
            "A flight appears twice in the journey.", errors={"segments": ["Each flight can be booked once."]}
        )
    return given


def _hold_request_build(
    *,
    user: User,
    passengers: Sequence[Mapping[str, str]],
    segments: list[tuple[int, Sequence[str] | None, str | None]],
    before_commit: BeforeCommit | None,
) -> HoldRequest:
    cleaned = _passengers_clean(passengers)
    count = sum(1 for passenger in cleaned if passenger.seated)
    built = [
        _segment_request_build(position, flight_id, seats, family, count=count, segments=len(segments))
        for position, (flight_id, seats, family) in enumerate(segments, start=1)
    ]
    _journey_ensure(built)
    passenger_types_ensure(cleaned, travel_date=travel_date(built[0].flight))
    return HoldRequest(user=user, segments=built, passengers=cleaned, before_commit=before_commit)


def _segment_request_build(
    position: int,
    flight_id: int,
    seats: Sequence[str] | None,
    fare_family: str | None,
    *,
    count: int,
    segments: int,
) -> SegmentRequest:
    field = "seats" if segments == 1 else f"segments.{position - 1}.seats"
    codes = _seat_codes_clean(seats, count, field=field)
    flight = flight_get_for_hold(flight_id=flight_id)
    prefix = f"Flight {position} ({flight.flight_number}): " if segments > 1 else ""
    _bookable_ensure(flight, timezone.now(), prefix=prefix)
    if fare_family is not None:
        family = flight.family_fare(fare_family)
        if family is None:
            family_field = "fare_family" if segments == 1 else f"segments.{position - 1}.fare_family"
            message = f"Fare family {fare_family!r} is not sold on flight {flight.flight_number}."
            raise ValidationFailed(prefix + message, errors={family_field: [message]})
        priced_cabins = frozenset({family[0]})
    else:
        priced_cabins = frozenset(cabin for cabin in Cabin.values if flight.fare_for(cabin) is not None)
    plan = seat_plan(airplane_layout(flight.airplane_id, flight.airplane.updated_at), priced_cabins)
    requested = None
    if codes:
        unknown = [code for code in codes if code not in plan.by_code]
        if unknown and fare_family is not None:
            message = f"Seats of fare family {fare_family} are in its cabin only: not {', '.join(unknown)}."
            raise ValidationFailed(prefix + message, errors={field: [message]})
        if unknown:
            raise SeatUnknown(
                f"{prefix}No such seat on this flight: {', '.join(unknown)}.",
                errors={field: [f"Seat {code} does not exist on this flight." for code in unknown]},
            )
        requested = [plan.by_code[code] for code in codes]
        # Taken already when the flight was read: refused without touching the lock.
        _requested_free_ensure(requested, flight.seats_taken, prefix=prefix, field=field)
    return SegmentRequest(
        position=position, flight=flight, plan=plan, requested=requested, fare_family=fare_family
    )


def _journey_ensure(segments: list[SegmentRequest]) -> None:
    """Several flights make one journey: one currency, each leaving after the previous lands."""
    problem = _journey_problem([segment.flight for segment in segments])
    if problem is not None:
        field, message = problem
        raise ValidationFailed(message, errors={field: [message]})


def _journey_problem(flights: list[Flight]) -> tuple[str, str] | None:
    """(the field, a sentence) that refuses these flights as one journey, in travel order, or None."""
    if len({flight.currency for flight in flights}) > 1:
        return "segments", "These flights are sold in different currencies and cannot be booked together."
    for position, (previous, following) in enumerate(itertools.pairwise(flights), start=2):
        problem = journey_connection_problem(previous, following)
        if problem:
            return f"segments.{position - 1}", f"Flight {position} ({following.flight_number}): {problem}"
    return None


def journey_refusal(flights: list[Flight], *, count: int, now: datetime) -> str | None:
    """Why a hold of these flights (travel order) for `count` travellers would be refused as they read
    now (a sentence naming the flight), or None: the rules the hold applies, for a page to say before
    the traveller types names. The hold decides again under the flights' locks."""
    for position, flight in enumerate(flights, start=1):
        reason = flight.sale_closed_reason(now)
        if reason is None and flight.available_seats < count:
            reason = f"{flight.available_seats} seat(s) left."
        if reason is not None:
            return f"Flight {position} ({flight.flight_number}): {reason}"
    problem = _journey_problem(flights)
    return None if problem is None else problem[1]


def _passengers_clean(passengers: Sequence[Mapping[str, Any]]) -> list[PassengerRequest]:
    if not 1 <= len(passengers) <= MAX_PARTY_SIZE:
        raise ValidationFailed(
            f"A booking has 1 to {MAX_PARTY_SIZE} passengers.",
            errors={"passengers": [f"Give from 1 to {MAX_PARTY_SIZE} passengers."]},
        )
    cleaned: list[PassengerRequest] = []
    errors: dict[str, list[str]] = {}
    for index, passenger in enumerate(passengers):
        names = []
        for field in ("first_name", "last_name"):
            value = str(passenger.get(field) or "").strip()
            if not value:
                errors[f"passengers.{index}.{field}"] = ["This field may not be blank."]
            elif len(value) > NAME_MAX_LENGTH:
                errors[f"passengers.{index}.{field}"] = [f"At most {NAME_MAX_LENGTH} characters."]
            names.append(value)
        kind = passenger.get("type") or Passenger.Type.ADULT
        if kind not in Passenger.Type.values:
            errors[f"passengers.{index}.type"] = [f'"{kind}" is not a valid choice.']
        born = passenger.get("date_of_birth")
        if isinstance(born, str):  # a caller's ISO text (the API's input hands over dates)
            try:
                born = parse_date(born)
            except ValueError:
                born = None
        if not isinstance(born, date | None) or (born is None and passenger.get("date_of_birth")):
            errors[f"passengers.{index}.date_of_birth"] = ["Give a date of birth as YYYY-MM-DD."]
            born = None
        cleaned.append(
            PassengerRequest(
                position=index + 1,
                first_name=names[0],
                last_name=names[1],
                type=str(kind),
                date_of_birth=born,
                travelling_with=passenger.get("travelling_with"),
            )
        )
    if errors:
        raise ValidationFailed(
            "Every passenger needs a first and a last name and a known type.", errors=errors
        )
    return cleaned


CHILD_MIN_AGE = 2  # an infant is younger
ADULT_MIN_AGE = 12  # a child is younger


def travel_date(flight: Flight) -> date:
    """The date a passenger's age is taken on: the first flight's local departure date."""
    return flight.departure_time.astimezone(ZoneInfo(flight.departure_airport.time_zone)).date()


def age_on(born: date, day: date) -> int:
    """Whole years from `born` to `day`. Someone born on 29 February turns a year older on 1 March
    in a year without one (the day after 28 February)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def passenger_types_ensure(passengers: Sequence[PassengerRequest], *, travel_date: date) -> None:
    """The passengers' types agree with their ages on `travel_date` and make a party that can fly.

    A child is 2–11 and an infant under 2 (born by then) on that date, both with a date of birth; an
    adult's date of birth is optional, but if given says 12 or older. At least one adult; each infant
    names, in `travelling_with`, the position of an adult of the booking who carries no other infant.
    Raises ValidationFailed (400) naming each passenger at fault ("Passenger 3 (infant): …") under
    `passengers.<index>.<field>`.
    """
    errors: dict[str, list[str]] = {}
    by_position = {passenger.position: passenger for passenger in passengers}
    carried: dict[int, int] = {}
    for passenger in passengers:
        index, label = passenger.position - 1, f"Passenger {passenger.position} ({passenger.type})"
        field = f"passengers.{index}.date_of_birth"
        born = passenger.date_of_birth
        if born is None:
            if passenger.type != Passenger.Type.ADULT:
                errors[field] = [f"{label}: a date of birth is required for a {passenger.type}."]
        elif born > travel_date:
            errors[field] = [f"{label}: the date of birth is after the date of travel ({travel_date})."]
        else:
            age = age_on(born, travel_date)
            if passenger.type == Passenger.Type.ADULT and age < ADULT_MIN_AGE:
                errors[field] = [
                    f"{label}: under {ADULT_MIN_AGE} on {travel_date}; book as a child or infant."
                ]
            elif passenger.type == Passenger.Type.CHILD and not CHILD_MIN_AGE <= age < ADULT_MIN_AGE:
                errors[field] = [
                    f"{label}: a child is {CHILD_MIN_AGE} to {ADULT_MIN_AGE - 1} on the date of travel "
                    f"({travel_date}); this passenger is {age}."
                ]
            elif passenger.type == Passenger.Type.INFANT and age >= CHILD_MIN_AGE:
                errors[field] = [
                    f"{label}: an infant is under {CHILD_MIN_AGE} on the date of travel ({travel_date}); "
                    f"this passenger is {age}."
                ]
        field = f"passengers.{index}.travelling_with"
        adult = by_position.get(passenger.travelling_with) if passenger.travelling_with else None
        if passenger.type != Passenger.Type.INFANT:
            if passenger.travelling_with is not None:
                errors[field] = [f"{label}: only an infant travels with an adult."]
        elif passenger.travelling_with is None:
            errors[field] = [f"{label}: name the adult the infant travels with (their passenger number)."]
        elif adult is None or adult.type != Passenger.Type.ADULT:
            errors[field] = [
                f"{label}: passenger {passenger.travelling_with} is not an adult of this booking."
            ]
        elif adult.position in carried:
            errors[field] = [
                f"{label}: passenger {adult.position} already has an infant "
                f"(passenger {carried[adult.position]}) on their lap; one infant per adult."
            ]
        else:
            carried[adult.position] = passenger.position
    if not any(passenger.type == Passenger.Type.ADULT for passenger in passengers):
        errors["passengers"] = ["A booking needs at least one adult (12 or older)."]
    if errors:
        first = next(iter(errors.values()))[0]
        message = first if len(errors) == 1 else "Some passengers cannot travel as given."
        raise ValidationFailed(message, errors=errors)


def _seat_codes_clean(seats: Sequence[str] | None, count: int, *, field: str = "seats") -> list[str] | None:
    if not seats:
        return None
    codes = [str(code).strip().upper() for code in seats]
    if len(codes) != count:
        raise ValidationFailed(
            "Request one seat per adult or child, or none.",
            errors={field: [f"Give {count} seat(s), one per adult or child, or leave seats out."]},
        )
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise ValidationFailed(
            "A seat is requested more than once.",
            errors={field: [f"Seat {code} is requested more than once." for code in repeated]},
        )
    return codes


def _bookable_ensure(flight: Flight, now: datetime, *, prefix: str = "") -> None:
    reason = flight.sale_closed_reason(now)
    if reason is not None:
        raise FlightNotBookable(prefix + reason)


def _requested_free_ensure(
    requested: list[Seat], seats_taken: str, *, prefix: str = "", field: str = "seats"
) -> None:
    unavailable = [seat.code for seat in requested if is_taken(seats_taken, seat.position)]
    if unavailable:
        raise SeatUnavailable(
            f"{prefix}Seat(s) already taken: {', '.join(unavailable)}.",
            errors={field: [f"Seat {code} is taken." for code in unavailable]},
        )


def _seats_pick(request: HoldRequest, segment: SegmentRequest, seats_taken: str) -> list[Seat]:
    prefix = segment.label(len(request.segments))
    if segment.requested is not None:
        field = "seats" if len(request.segments) == 1 else f"segments.{segment.position - 1}.seats"
        _requested_free_ensure(segment.requested, seats_taken, prefix=prefix, field=field)
        return segment.requested
    chosen = seats_choose(plan=segment.plan, taken=seats_taken, count=request.count, rng=_rng)
    if chosen is None:
        raise SoldOut(f"{prefix}Not enough free seats left.")
    return chosen


def _hold_pessimistic(request: HoldRequest) -> Booking:
    """Lock the flights' rows (ascending id), then decide everything from them: the sale rule, the
    seats (their `seats_taken`), the counters; insert; move the inventory last."""
    with locked_transaction():
        locked = {
            segment.flight.pk: flight_lock_for_hold(flight_id=segment.flight.pk)
            for segment in request.by_flight_id()
        }
        now = timezone.now()
        chosen = []
        for segment in request.segments:
            flight = locked[segment.flight.pk]
            prefix = segment.label(len(request.segments))
            _bookable_ensure(flight, now, prefix=prefix)
            if flight.available_seats < request.count:
                raise SoldOut(f"{prefix}{flight.available_seats} seat(s) left.")
            chosen.append(_seats_pick(request, segment, flight.seats_taken))
        booking = _booking_insert(request, priced_by=locked, seats=chosen, now=now)
        for segment, seats in zip(request.segments, chosen, strict=True):
            flight = locked[segment.flight.pk]
            flight_seats_take(flight=flight, positions=[seat.position for seat in seats])
            segment.flight.available_seats = flight.available_seats
        _held(request, booking)
    return booking


class _SeatsTakenMeanwhile(Exception):
    """A conditional UPDATE matched no row: undo the segments taken so far."""


def _hold_optimistic(request: HoldRequest) -> Booking:
    """No lock taken in code: conditional UPDATEs decide, in the database, what each hold gets.

    First, one UPDATE per flight (ascending id) takes the seats chosen from the flight as last read,
    only if the flight is on sale, has that many seats left and each chosen seat is still free; it
    marks them taken itself, so concurrent holds of other seats are never overwritten. They run first
    in the transaction: the inserts' foreign-key checks take a shared lock on the flight row, so
    inserting first would make concurrent holds deadlock upgrading it. When one matches no row, the
    transaction is rolled back and the flights are read again: sold out or closed is answered;
    otherwise a chosen seat was taken meanwhile, and a new transaction takes the seats off each
    counter first (a conditional UPDATE that cannot collide) and then chooses them from the marks,
    which that UPDATE's row lock keeps exact until the commit.
    """
    chosen = {
        segment.position: _seats_pick(request, segment, segment.flight.seats_taken)
        for segment in request.segments
    }
    now = timezone.now()
    try:
        with locked_transaction():
            for segment in request.by_flight_id():
                positions = [seat.position for seat in chosen[segment.position]]
                if not flight_seats_take_if_free(flight=segment.flight, positions=positions, now=now):
                    raise _SeatsTakenMeanwhile()
            return _unlocked_hold_write(
                request, [chosen[segment.position] for segment in request.segments], now
            )
    except _SeatsTakenMeanwhile:
        pass
    _refusal_ensure(request, now)
    logger.info("A chosen seat was taken meanwhile on flight %s; choosing again", request.flight.pk)
    now = timezone.now()
    try:
        with locked_transaction():
            marks = {}
            for segment in request.by_flight_id():
                seats_taken = flight_seats_reserve(flight_id=segment.flight.pk, count=request.count, now=now)
                if seats_taken is None:
                    raise _SeatsTakenMeanwhile()
                marks[segment.position] = seats_taken
            seats = []
            for segment in request.segments:
                picked = _seats_pick(request, segment, marks[segment.position])
                flight_seats_mark(
                    flight_id=segment.flight.pk,
                    seats_taken=marks[segment.position],
                    positions=[seat.position for seat in picked],
                )
                seats.append(picked)
            return _unlocked_hold_write(request, seats, now)
    except _SeatsTakenMeanwhile:
        pass
    _refusal_ensure(request, now)
    raise Busy("The flight is very busy; try again.")


def _unlocked_hold_write(request: HoldRequest, seats: list[list[Seat]], now: datetime) -> Booking:
    """The optimistic hold's writes once its conditional UPDATEs took the seats: the booking priced by
    the flights as read before the transaction, their counters as the answer shows them, the events."""
    booking = _booking_insert(
        request,
        priced_by={segment.flight.pk: segment.flight for segment in request.segments},
        seats=seats,
        now=now,
    )
    for segment in request.segments:
        segment.flight.available_seats -= request.count
    _held(request, booking)
    return booking


def _refusal_ensure(request: HoldRequest, now: datetime) -> None:
    """After a conditional UPDATE matched no row: raise what the flights, read again, say is wrong."""
    flights = Flight.objects.only("status", "departure_time", "available_seats").in_bulk(
        [segment.flight.pk for segment in request.segments]
    )
    for segment in request.segments:
        flight, prefix = flights[segment.flight.pk], segment.label(len(request.segments))
        _bookable_ensure(flight, now, prefix=prefix)
        if flight.available_seats < request.count:
            raise SoldOut(f"{prefix}{flight.available_seats} seat(s) left.")


def _held(request: HoldRequest, booking: Booking) -> None:
    """The end of the hold's transaction: announce it, then the caller's last word."""
    events.booking_held.publish(events.BookingHeld(booking=booking))
    if request.before_commit is not None:
        request.before_commit(booking)


def _booking_insert(
    request: HoldRequest, *, priced_by: Mapping[int, Flight], seats: list[list[Seat]], now: datetime
) -> Booking:
    """Insert the booking, its passengers and their seats on every segment (three statements; a fourth
    for a booking with infants: their fares per segment) and the audit row, and return the booking as
    the ORM would have left it.

    The statements are written here rather than built by the ORM: they run on every hold, under the
    flights' locks with the pessimistic strategy, and building them cost several times what the
    database spends on them (docs/PROFILE.md). `priced_by` maps each flight id to the row its fares
    come from (the locked row, where there is one); `seats` are each segment's, one per seated
    passenger in passenger order, in journey order.
    """
    first = priced_by[request.flight.pk]
    seated = [passenger for passenger in request.passengers if passenger.seated]
    infants = [passenger for passenger in request.passengers if not passenger.seated]
    prices = []  # per segment, per seated passenger: (family code, price, its split)
    infant_fares = []  # per segment, per infant
    for segment, segment_seats in zip(request.segments, seats, strict=True):
        flight = priced_by[segment.flight.pk]
        charge = airport_charge(segment.flight.departure_airport, flight.currency)
        adults = {}  # position → (family code, an adult's price) of each seat
        segment_prices = []
        for passenger, seat in zip(seated, segment_seats, strict=True):
            code, adult_price = _seat_price(flight, segment, seat)
            adults[passenger.position] = (code, adult_price)
            price = _passenger_price(adult_price, passenger.type, code, first.currency)
            segment_prices.append((code, price, price_split(price, cabin=seat.cabin, charge=charge)))
        prices.append(segment_prices)
        infant_fares.append(
            [
                _passenger_price(price, infant.type, code, first.currency)
                for infant in infants
                for code, price in [adults[infant.travelling_with]]
            ]
        )
    fares = [[price for _, price, _ in segment_prices] for segment_prices in prices]
    booking = Booking(
        reference=_reference_new(),
        owner=request.user,
        flight=request.flight,
        segment_count=len(request.segments),
        status=Booking.Status.HELD,
        total_amount=sum(
            (fare for segment_fares in (*fares, *infant_fares) for fare in segment_fares), Decimal("0")
        ),
        currency=first.currency,
        hold_expires_at=now + timedelta(seconds=settings.BOOKING_HOLD_SECONDS),
        created_at=now,
        updated_at=now,
    )
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Booking._meta.db_table} (created_at, updated_at, reference, owner_id, flight_id,"
            " segment_count, status, total_amount, currency, hold_expires_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                ops.adapt_datetimefield_value(now),
                ops.adapt_datetimefield_value(now),
                booking.reference,
                request.user.pk,
                request.flight.pk,
                booking.segment_count,
                booking.status,
                ops.adapt_decimalfield_value(booking.total_amount, 12, 2),
                booking.currency,
                ops.adapt_datetimefield_value(booking.hold_expires_at),
            ],
        )
        booking.pk = cursor.lastrowid
        passengers = [
            Passenger(
                booking=booking,
                position=given.position,
                first_name=given.first_name,
                last_name=given.last_name,
                type=given.type,
                date_of_birth=given.date_of_birth,
                travelling_with=given.travelling_with,
            )
            for given in request.passengers
        ]
        _passengers_insert(cursor, passengers)
        seated_passengers = [passenger for passenger in passengers if not passenger.is_infant]
        assignments = [
            SeatAssignment(
                flight_id=segment.flight.pk,
                booking=booking,
                passenger=passenger,
                segment=segment.position,
                seat_code=seat.code,
                cabin=seat.cabin,
                fare=fare,
                base_fare=split.base_fare,
                taxes=split.taxes,
                fare_family=family,
            )
            for segment, segment_seats, segment_prices in zip(request.segments, seats, prices, strict=True)
            for passenger, seat, (family, fare, split) in zip(
                seated_passengers, segment_seats, segment_prices, strict=True
            )
        ]
        cursor.execute(
            f"INSERT INTO {SeatAssignment._meta.db_table} (flight_id, booking_id, passenger_id, segment,"
            " seat_code, cabin, fare, base_fare, taxes, fare_family, active)"
            f" VALUES {', '.join(['(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)'] * len(assignments))}",
            [
                value
                for assignment in assignments
                for value in (
                    assignment.flight_id,
                    booking.pk,
                    assignment.passenger.pk,
                    assignment.segment,
                    assignment.seat_code,
                    assignment.cabin,
                    ops.adapt_decimalfield_value(assignment.fare, 10, 2),
                    ops.adapt_decimalfield_value(assignment.base_fare, 10, 2),
                    json.dumps(assignment.taxes),
                    assignment.fare_family,
                    True,
                )
            ],
        )
        lap_fares = [
            InfantFare(passenger=passenger, segment=segment.position, fare=fare)
            for segment, segment_fares in zip(request.segments, infant_fares, strict=True)
            for passenger, fare in zip(
                [passenger for passenger in passengers if passenger.is_infant], segment_fares, strict=True
            )
        ]
        if lap_fares:
            cursor.execute(
                f"INSERT INTO {InfantFare._meta.db_table} (passenger_id, segment, fare)"
                f" VALUES {', '.join(['(%s, %s, %s)'] * len(lap_fares))}",
                [
                    value
                    for line in lap_fares
                    for value in (
                        line.passenger.pk,
                        line.segment,
                        ops.adapt_decimalfield_value(line.fare, 10, 2),
                    )
                ],
            )
    for instance in (booking, *passengers, *assignments, *lap_fares):
        instance._state.adding, instance._state.db = False, connection.alias
    for passenger in passengers:
        passenger.seats_held = [assignment for assignment in assignments if assignment.passenger is passenger]
        passenger.infant_fares_held = [line for line in lap_fares if line.passenger is passenger]
    booking.passengers_held = passengers
    booking.segment_flights = [segment.flight for segment in request.segments]
    detail = {
        "flight_id": request.flight.pk,
        "seats": [seat.code for seat in seats[0]],
        "total_amount": str(booking.total_amount),
        "currency": booking.currency,
    }
    if len(request.segments) > 1:
        detail["segments"] = [
            {"flight_id": segment.flight.pk, "seats": [seat.code for seat in segment_seats]}
            for segment, segment_seats in zip(request.segments, seats, strict=True)
        ]
    audit_record(
        action=Action.CREATED,
        subject_type=Subject.BOOKING,
        subject_ref=booking.reference,
        actor=request.user,
        detail=detail,
    )
    return booking


def _seat_price(flight: Flight, segment: SegmentRequest, seat: Seat) -> tuple[str, Decimal]:
    """(family code, an adult's price) of one seat, priced by `flight` (the locked row, where the
    strategy locks): the chosen family's price, else the cabin's fare and its cheapest family."""
    if segment.fare_family is not None:
        family = flight.family_fare(segment.fare_family)
        if family is None:  # staff stopped selling it between the read and the lock
            message = f"Fare family {segment.fare_family!r} is no longer sold on this flight."
            raise ValidationFailed(message, errors={"fare_family": [message]})
        code, price = segment.fare_family, family[1]
    else:
        code, price = flight.cheapest_family(seat.cabin), flight.fare_for(seat.cabin)
    return code, price


def _passenger_price(adult_price: Decimal, passenger_type: str, family_code: str, currency: str) -> Decimal:
    """What a passenger of `passenger_type` pays where an adult pays `adult_price` in the family
    `family_code`: the family's child or infant share (its rules are read only for a child or an
    infant, so an adults-only hold reads no family)."""
    if passenger_type == Passenger.Type.ADULT:
        return adult_price
    family = fare_family_catalogue_cached().get(family_code) if family_code else None
    return passenger_fare(adult_price, passenger_type, family, currency=currency)


def _passengers_insert(cursor, passengers: list[Passenger]) -> None:
    """Insert the passengers in one statement and set their ids (by position: RETURNING's row order
    is not promised); one statement each where the database cannot return ids from a bulk insert."""
    table = Passenger._meta.db_table
    columns = "booking_id, position, first_name, last_name, type, date_of_birth, travelling_with"
    ops = connection.ops
    rows = [
        (
            p.booking.pk,
            p.position,
            p.first_name,
            p.last_name,
            p.type,
            ops.adapt_datefield_value(p.date_of_birth),
            p.travelling_with,
        )
        for p in passengers
    ]
    placeholders = "(%s, %s, %s, %s, %s, %s, %s)"
    if connection.features.can_return_rows_from_bulk_insert:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholders] * len(rows))}"
            " RETURNING id, position",
            [value for row in rows for value in row],
        )
        ids = dict((position, pk) for pk, position in cursor.fetchall())
        for passenger in passengers:
            passenger.pk = ids[passenger.position]
        return
    for passenger, row in zip(passengers, rows, strict=True):
        cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {placeholders}", list(row))
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
