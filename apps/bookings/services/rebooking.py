"""The airline's rebooking of a flight it cancels: its confirmed bookings move to another flight on the
same route at no charge, the rest are cancelled and refunded as every cancel is
(docs/FLIGHT_OPERATIONS.md, "Cancelling and rebooking").
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.services.cancellation import flight_bookings_cancel
from apps.bookings.services.changes import MOVE_PERMISSIONS, booking_segment_move, same_route
from apps.core.exceptions import ApplicationError, PermissionDenied, ValidationFailed
from apps.core.permissions import staff_may
from apps.flights.exceptions import FlightNotCancellable, FlightNotFound
from apps.flights.models import Flight
from apps.flights.services import cancellation_reason_clean, flight_cancel, flight_cancel_refusal


def rebooking_candidates(*, flight: Flight, now: datetime) -> QuerySet[Flight]:
    """Flights the bookings of `flight` may be moved to: between the same cities (so the same airports
    too), on sale at `now`, leaving after `flight`, in its currency, with a free seat; by departure."""
    return (
        Flight.objects.filter(
            Flight.on_sale(now),
            departure_airport__city_id=flight.departure_airport.city_id,
            arrival_airport__city_id=flight.arrival_airport.city_id,
            departure_time__gt=flight.departure_time,
            currency=flight.currency,
            available_seats__gt=0,
        )
        .exclude(pk=flight.pk)
        .select_related("departure_airport", "arrival_airport")
        .order_by("departure_time", "pk")
    )


def rebooking_candidates_for(*, flights: list[Flight], now: datetime) -> QuerySet[Flight]:
    """`rebooking_candidates` of any of `flights` (the flights some selected bookings share)."""
    ids = [candidate.pk for flight in flights for candidate in rebooking_candidates(flight=flight, now=now)]
    return Flight.objects.filter(pk__in=ids).select_related("departure_airport", "arrival_airport")


def flights_shared(*, bookings: list[Booking]) -> list[Flight]:
    """The flights every one of `bookings` flies, with their airports (one query, and one more)."""
    pairs = (
        SeatAssignment.objects.filter(booking__in=bookings).values_list("booking_id", "flight_id").distinct()
    )
    per_booking: dict[int, set[int]] = {booking.pk: set() for booking in bookings}
    for booking_id, flight_id in pairs:
        per_booking[booking_id].add(flight_id)
    shared = set.intersection(*per_booking.values()) if per_booking else set()
    return list(Flight.objects.filter(pk__in=shared).select_related("departure_airport", "arrival_airport"))


@dataclass
class RebookingOutcome:
    """What a cancel with rebooking did: the bookings moved (references), those that could not be and
    why, and how many of the flight's bookings its cancel then cancelled and refunded."""

    rebooked: list[str] = field(default_factory=list)
    not_rebooked: dict[str, str] = field(default_factory=dict)
    cancelled: int = 0
    refunded: int = 0


def flight_cancel_and_rebook(
    *, flight_id: int, to_flight_id: int, actor: User, reason: str
) -> RebookingOutcome:
    """Cancel a flight, first moving each of its confirmed bookings to `to_flight_id` at no charge.

    Needs MOVE_PERMISSIONS (PermissionDenied, 403). Before anything changes: the reason is checked as
    `flight_cancel` checks it (ValidationFailed, 400), the flight must be scheduled and not departed
    (FlightNotCancellable, 409; an already cancelled flight's bookings are already being refunded), and
    `to_flight_id` must be one of `rebooking_candidates` (ValidationFailed, 400, `to_flight_id`).

    Then each confirmed booking with a seat on the flight moves, in its own short transaction, through
    `booking_segment_move` (by the airline: audited "rebooked", its traveller e-mailed); one that cannot
    (no room left in its cabin, a connection the new flight would break, a payment running) is kept in
    `not_rebooked` with the reason. Last, `flight_cancel` cancels the flight: held bookings, those not
    moved and any made meanwhile are cancelled and refunded by its usual pass when it commits, so only
    bookings that were not rebooked are ever refunded. Errors of that cancel (Busy) are raised after
    the moves, which stay done.
    """
    if not staff_may(actor, *MOVE_PERMISSIONS):
        raise PermissionDenied("Rebooking a flight needs flights.change_flight and bookings.change_booking.")
    reason = cancellation_reason_clean(reason)
    now = timezone.now()
    flight = (
        Flight.objects.select_related("departure_airport", "arrival_airport").filter(pk=flight_id).first()
    )
    if flight is None:
        raise FlightNotFound(f"Flight {flight_id} does not exist.")
    if flight.status != Flight.Status.SCHEDULED:
        raise FlightNotCancellable(f"The flight is {flight.get_status_display().lower()}.")
    if refusal := flight_cancel_refusal(flight, now):
        raise FlightNotCancellable(refusal)
    if not rebooking_candidates(flight=flight, now=now).filter(pk=to_flight_id).exists():
        raise ValidationFailed(
            "That flight cannot take this flight's passengers.",
            errors={"to_flight_id": ["Choose a later flight on the same route, on sale, with free seats."]},
        )

    confirmed = list(
        Booking.objects.filter(
            pk__in=SeatAssignment.objects.filter(
                flight_id=flight_id, active=True, booking__status=Booking.Status.CONFIRMED
            ).values("booking_id")
        ).order_by("pk")
    )
    to_flight = Flight.objects.get(pk=to_flight_id)
    outcome = bookings_rebook(
        bookings=confirmed,
        from_flights=[flight],
        to_flight=to_flight,
        actor=actor,
        reason=reason,
        flight_cancelled=True,
    )

    started = timezone.now()
    refundable = list(Booking.objects.filter(reference__in=outcome.not_rebooked).values_list("pk", flat=True))
    flight_cancel(flight_id=flight_id, actor=actor, reason=reason)
    # The cancel's own pass over the flight's bookings runs when it commits (in this thread, outside a
    # transaction); running it here too is harmless (it is safe to run twice) and means it has run
    # before the bookings are counted, whoever calls this.
    flight_bookings_cancel(flight_id=flight_id, actor=actor)
    ended = Booking.objects.filter(
        seat_assignments__flight_id=flight_id, status=Booking.Status.CANCELLED, cancelled_at__gte=started
    ).distinct()
    outcome.cancelled = ended.count()
    outcome.refunded = ended.filter(pk__in=refundable).count()
    return outcome


def bookings_rebook(
    *,
    bookings: list[Booking],
    from_flights: list[Flight],
    to_flight: Flight,
    actor: User,
    reason: str = "",
    flight_cancelled: bool = False,
) -> RebookingOutcome:
    """Move each of `bookings` by the airline, at no charge, from the one of `from_flights` on
    `to_flight`'s route to `to_flight` (`booking_segment_move`, each in its own transaction). A booking
    that cannot move (its ApplicationError) is kept in `not_rebooked` with the reason and left as it
    is; `cancelled` and `refunded` stay 0. `reason` and `flight_cancelled` go to each traveller's
    e-mail (`booking_segment_move`)."""
    outcome = RebookingOutcome()
    on_route = [flight.pk for flight in from_flights if same_route(flight, to_flight)]
    segments = dict(
        SeatAssignment.objects.filter(booking__in=bookings, flight_id__in=on_route)
        .values_list("booking_id", "segment")
        .distinct()
    )
    for booking in bookings:
        if booking.pk not in segments:
            outcome.not_rebooked[booking.reference] = (
                f"it does not fly the route of {to_flight.flight_number}."
            )
            continue
        try:
            booking_segment_move(
                booking=booking,
                segment=segments[booking.pk],
                to_flight_id=to_flight.pk,
                actor=actor,
                by_airline=True,
                reason=reason,
                flight_cancelled=flight_cancelled,
            )
        except ApplicationError as error:
            outcome.not_rebooked[booking.reference] = error.detail
            continue
        outcome.rebooked.append(booking.reference)
    return outcome
