"""Moving one segment of a booking to another flight: the change service (docs/FLIGHT_OPERATIONS.md,
"Rebooking", and docs/ARCHITECTURE.md, "Locks"). Staff and the airline move bookings through
`booking_segment_move`, at no charge; a traveller's own change, priced by its quote, moves through the
same `segment_move_locked` (apps/bookings/services/flight_changes.py, docs/FARES.md, "Changing a flight").

How the history is kept: each passenger keeps ONE seat assignment per segment (unique per passenger
and segment, as every reader of a booking expects: the journey, the e-mails, check-in, the manifest).
A move rewrites that row in place: first `seats_release` gives the old seats back to the old flight
(the rows go inactive and the old flight's counter moves, exactly as a cancel does), then the same rows
are pointed at the new flight with their new seats and made active again, and the new flight's counter
moves by the same seats. The cabin stays, and so does the price unless the move carries the new one (a
traveller's change: `MovePrice`); check-in (time and number) is cleared, since it was for the old
flight. What the rows said before (flight, seat, check-in) is written to the audit row of the
move ("rebooked" by the airline, "changed" otherwise) and told to the traveller in the "your flight
has changed" e-mail, so the history is in the audit trail, not in extra seat rows.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from apps.accounts.models import User
from apps.bookings import events
from apps.bookings.exceptions import (
    BookingNotMovable,
    FlightNotBookable,
    MoveConnectionBroken,
    MoveRouteMismatch,
    SoldOut,
)
from apps.bookings.locks import booking_lock_for_move
from apps.bookings.models import Booking, InfantFare, SeatAssignment
from apps.bookings.services.inventory import seats_release
from apps.bookings.services.seat_selection import seat_plan, seats_choose_in_cabin
from apps.core.audit import Action, Subject, audit_record
from apps.core.db import retry_on_lock_conflict
from apps.core.exceptions import PermissionDenied, ValidationFailed
from apps.core.locking import locked_transaction
from apps.core.permissions import staff_may
from apps.core.request_context import log_context_update
from apps.flights.journeys import journey_connection_problem
from apps.flights.models import Airplane, Airport, Cabin, Flight
from apps.flights.seating import TAKEN, Seat, airplane_layout, seats_marked
from apps.flights.services import FLIGHT_CANCEL_PERMISSIONS
from apps.flights.services.seats import flight_seats_take

# Who may move a booking's flight: what cancelling a flight asks (apps/flights/services/flights.py).
MOVE_PERMISSIONS = FLIGHT_CANCEL_PERMISSIONS


@dataclass(frozen=True)
class SeatPrice:
    """One passenger's price on the new flight, all in, split as a hold splits it (docs/FARES.md)."""

    fare: Decimal
    base_fare: Decimal
    taxes: list[dict[str, str]]
    fare_family: str


@dataclass(frozen=True)
class MovePrice:
    """What a traveller's own change costs, and the prices the moved rows take: each seat's by its
    passenger's id, each infant's fare on the segment by the infant's id (apps/bookings/services/
    flight_changes.py). A move without one (staff, the airline's rebooking) keeps every price and costs
    nothing."""

    seats: Mapping[int, SeatPrice]
    infant_fares: Mapping[int, Decimal]
    fare_difference: Decimal
    change_fee: Decimal
    residual_kept: Decimal
    amount_charged: Decimal
    amount_refunded: Decimal
    change_id: int


@retry_on_lock_conflict
def booking_segment_move(
    *,
    booking: Booking,
    segment: int,
    to_flight_id: int,
    actor: User,
    by_airline: bool,
    reason: str = "",
    flight_cancelled: bool = False,
) -> events.BookingSegmentMoved:
    """Move segment `segment` (1-based) of `booking` to the flight `to_flight_id`, every passenger with
    it, at no charge: staff, or the airline rebooking off a flight it cancels.

    The actor holds MOVE_PERMISSIONS (else PermissionDenied, 403); the segment exists (ValidationFailed,
    400, `segment`); then, under the locks (the booking's flights and the new one by ascending id, then
    the booking: `booking_lock_for_move`), the rules of `segment_move_locked`. FlightNotFound (404) for
    an unknown flight; Busy (409) on lock conflicts. Refused, it writes nothing. Returns the published
    event.
    """
    if not staff_may(actor, *MOVE_PERMISSIONS):
        raise PermissionDenied(
            "Moving a booking to another flight needs flights.change_flight and bookings.change_booking."
        )
    log_context_update(booking_reference=booking.reference)
    segment_ensure(booking, segment)
    now = timezone.now()
    with locked_transaction():
        locked, to_flight = booking_lock_for_move(booking_id=booking.pk, to_flight_id=to_flight_id)
        return segment_move_locked(
            booking=locked,
            segment=segment,
            to_flight=to_flight,
            actor=actor,
            by_airline=by_airline,
            now=now,
            reason=reason,
            flight_cancelled=flight_cancelled,
        )


def segment_ensure(booking: Booking, segment: int) -> None:
    """ValidationFailed (400, `segment`) unless `booking` has a flight `segment` (1-based)."""
    if not 1 <= segment <= booking.segment_count:
        raise ValidationFailed(
            f"Booking {booking.reference} has no flight {segment}.",
            errors={"segment": [f"Must be between 1 and {booking.segment_count}."]},
        )


def segment_move_locked(
    *,
    booking: Booking,
    segment: int,
    to_flight: Flight,
    actor: User,
    by_airline: bool,
    now: datetime,
    reason: str = "",
    flight_cancelled: bool = False,
    price: MovePrice | None = None,
) -> events.BookingSegmentMoved:
    """Move segment `segment` of `booking` to `to_flight`, the rows `booking_lock_for_move` locked in
    the caller's transaction (the booking's flights and the new one by ascending id, then the booking).

    Rules, all checked on those locked rows: the booking is held (unexpired) or confirmed and the
    segment's flight has not left (BookingNotMovable, 409); the new flight is another flight, not
    already in the journey, in the booking's currency (ValidationFailed, 400, `to_flight_id`), flying
    the same route, i.e. the same airports or the same cities (MoveRouteMismatch, 400), on sale
    (FlightNotBookable, 409), keeping the connections with the segments before and after it
    (`journey_connection_problem`; MoveConnectionBroken, 409), with a free seat for every passenger in
    the cabin they had (SoldOut, 409: the same seat codes when free, else seats together in that cabin;
    a cabin the new flight does not sell is refused, never up- or downgraded).

    The old seats go back to the old flight, the rows are rewritten for the new flight (module
    docstring), check-in on the old flight is void, `Booking.flight` follows when segment 1 moves; with
    `price` (a traveller's change) the rows and the infants' fares take the new prices and
    `Booking.total_amount` moves by the fare difference. Audited "rebooked" (`by_airline`: the airline's
    rebooking, e.g. off a cancelled flight) or "changed", with the old and new flight and seats and what
    it cost; `booking_segment_moved` is published (the traveller's "your flight has changed" e-mail,
    which gives `reason` and the money, and, with `flight_cancelled`, says the old flight is cancelled:
    the airline's rebooking moves bookings just before it cancels the flight). Raising, it has written
    nothing the caller's transaction keeps. Returns the published event.
    """
    from_flight = booking.segment_flights[segment - 1]
    _movable_ensure(booking, from_flight, now)
    new_flight_ensure(booking, segment, to_flight, now)
    rows = list(
        SeatAssignment.objects.filter(booking_id=booking.pk, segment=segment, active=True)
        .select_related("passenger")
        .order_by("passenger__position")
    )
    new_seats = seats_for(rows, to_flight)
    moves = [
        events.SeatMove(
            passenger=row.passenger,
            from_seat=row.seat_code,
            to_seat=new_seats[row.pk].code,
            cabin=row.cabin,
        )
        for row in rows
    ]
    voided = [row.passenger_id for row in rows if row.checked_in_at is not None]

    released = seats_release(flight=from_flight, booking_ids=[booking.pk], now=now)
    if not rows or released != len(rows):
        raise BookingNotMovable(
            f"Booking {booking.reference}'s seats on {from_flight.flight_number} changed."
        )
    for row in rows:
        fields = {
            "flight_id": to_flight.pk,
            "seat_code": new_seats[row.pk].code,
            "active": True,
            "released_at": None,
            "checked_in_at": None,
            "check_in_number": None,
        }
        if price is not None:
            seat_price = price.seats[row.passenger_id]
            fields.update(
                fare=seat_price.fare,
                base_fare=seat_price.base_fare,
                taxes=seat_price.taxes,
                fare_family=seat_price.fare_family,
            )
        SeatAssignment.objects.filter(pk=row.pk).update(**fields)
    flight_seats_take(flight=to_flight, positions=[seat.position for seat in new_seats.values()])
    fields = ["updated_at"]
    if segment == 1:
        booking.flight = to_flight
        fields.append("flight")
    if price is not None:
        for passenger_id, fare in price.infant_fares.items():
            InfantFare.objects.filter(passenger_id=passenger_id, segment=segment).update(fare=fare)
        booking.total_amount += price.fare_difference
        fields.append("total_amount")
    booking.save(update_fields=fields)
    booking.segment_flights[segment - 1] = to_flight

    money = (
        {
            "fare_difference": str(price.fare_difference),
            "change_fee": str(price.change_fee),
            "residual_kept": str(price.residual_kept),
            "amount_charged": str(price.amount_charged),
            "amount_refunded": str(price.amount_refunded),
            "flight_change": price.change_id,
        }
        if price is not None
        else {"fare_difference": "0"}
    )
    audit_record(
        action=Action.REBOOKED if by_airline else Action.CHANGED,
        subject_type=Subject.BOOKING,
        subject_ref=booking.reference,
        actor=actor,
        detail={
            "segment": segment,
            "from_flight": _flight_detail(from_flight),
            "to_flight": _flight_detail(to_flight),
            "seats": [
                {
                    "passenger": move.passenger.position,
                    "from": move.from_seat,
                    "to": move.to_seat,
                    "cabin": move.cabin,
                }
                for move in moves
            ],
            "check_in_voided": len(voided),
            "by_airline": by_airline,
            "reason": reason,
            **money,
        },
    )
    moved = events.BookingSegmentMoved(
        booking=booking,
        segment=segment,
        from_flight=from_flight,
        to_flight=to_flight,
        seats=moves,
        by_airline=by_airline,
        check_in_voided=len(voided),
        reason=reason or from_flight.cancellation_reason,
        flight_cancelled=flight_cancelled or from_flight.status == Flight.Status.CANCELLED,
        fare_difference=price.fare_difference if price else Decimal("0"),
        change_fee=price.change_fee if price else Decimal("0"),
        residual_kept=price.residual_kept if price else Decimal("0"),
        amount_charged=price.amount_charged if price else Decimal("0"),
        amount_refunded=price.amount_refunded if price else Decimal("0"),
    )
    events.booking_segment_moved.publish(moved)
    return moved


def _movable_ensure(booking: Booking, from_flight: Flight, now: datetime) -> None:
    if booking.status == Booking.Status.PAYING:
        raise BookingNotMovable("A payment is in progress; try again when it has ended.")
    if booking.status not in (Booking.Status.HELD, Booking.Status.CONFIRMED):
        raise BookingNotMovable(f"The booking is {booking.get_status_display().lower()}.")
    if booking.status == Booking.Status.HELD and booking.hold_expires_at <= now:
        raise BookingNotMovable("The hold has expired.")
    if from_flight.has_departed(now):
        raise BookingNotMovable(f"{from_flight.flight_number} has departed.")


def new_flight_ensure(booking: Booking, segment: int, to_flight: Flight, now: datetime) -> None:
    """The rules the new flight must meet (`segment_move_locked`), read from its row: locked when moving,
    as read when quoting. `booking.segment_flights` are the journey's flights."""
    flights = booking.segment_flights
    from_flight = flights[segment - 1]
    if to_flight.pk in {flight.pk for flight in flights}:
        raise ValidationFailed(
            f"The booking already flies {to_flight.flight_number}.",
            errors={"to_flight_id": ["Choose a flight the booking does not already fly."]},
        )
    if to_flight.currency != booking.currency:
        raise ValidationFailed(
            f"{to_flight.flight_number} is sold in {to_flight.currency}, the booking in {booking.currency}.",
            errors={"to_flight_id": [f"Choose a flight sold in {booking.currency}."]},
        )
    if not same_route(from_flight, to_flight):
        raise MoveRouteMismatch(
            f"{to_flight.flight_number} does not fly the route of {from_flight.flight_number}.",
            errors={"to_flight_id": ["Choose a flight between the same airports or cities."]},
        )
    reason = to_flight.sale_closed_reason(now)
    if reason is not None:
        raise FlightNotBookable(f"{to_flight.flight_number}: {reason}")
    if segment > 1 and (problem := journey_connection_problem(flights[segment - 2], to_flight)):
        raise MoveConnectionBroken(f"{to_flight.flight_number}: {problem}")
    if segment < len(flights) and (problem := journey_connection_problem(to_flight, flights[segment])):
        raise MoveConnectionBroken(
            f"{flights[segment].flight_number} after {to_flight.flight_number}: {problem}"
        )


def same_route(flight: Flight, other: Flight) -> bool:
    """`other` flies `flight`'s route: from the same airport or city, to the same airport or city."""
    if (flight.departure_airport_id, flight.arrival_airport_id) == (
        other.departure_airport_id,
        other.arrival_airport_id,
    ):
        return True
    ids = {
        flight.departure_airport_id,
        flight.arrival_airport_id,
        other.departure_airport_id,
        other.arrival_airport_id,
    }
    city = dict(Airport.objects.filter(pk__in=ids).values_list("pk", "city_id"))
    return (city[flight.departure_airport_id], city[flight.arrival_airport_id]) == (
        city[other.departure_airport_id],
        city[other.arrival_airport_id],
    )


def seats_for(rows: list[SeatAssignment], to_flight: Flight) -> dict[int, Seat]:
    """A free seat on the new flight for each row, in the row's cabin, by row id. SoldOut names the
    cabin without room."""
    layout = airplane_layout(
        to_flight.airplane_id,
        Airplane.objects.values_list("updated_at", flat=True).get(pk=to_flight.airplane_id),
    )
    priced = frozenset(cabin for cabin in Cabin.values if to_flight.fare_for(cabin) is not None)
    plan = seat_plan(layout, priced)
    taken = to_flight.seats_taken
    by_cabin: dict[str, list[SeatAssignment]] = {}
    for row in rows:
        by_cabin.setdefault(row.cabin, []).append(row)
    seats: dict[int, Seat] = {}
    for cabin, cabin_rows in by_cabin.items():
        chosen = seats_choose_in_cabin(
            plan=plan,
            cabin=cabin,
            taken=taken,
            count=len(cabin_rows),
            preferred=[row.seat_code for row in cabin_rows],
        )
        if chosen is None:
            raise SoldOut(
                f"{to_flight.flight_number} has not {len(cabin_rows)} free {Cabin(cabin).label} seat(s)."
            )
        taken = seats_marked(taken, [seat.position for seat in chosen], TAKEN)
        seats.update({row.pk: seat for row, seat in zip(cabin_rows, chosen, strict=True)})
    return seats


def _flight_detail(flight: Flight) -> dict[str, str | int]:
    return {
        "id": flight.pk,
        "number": flight.flight_number,
        "departure_time": flight.departure_time.isoformat(),
    }
