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
from apps.bookings.services.changes import MOVE_PERMISSIONS, booking_segment_move
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

    outcome = RebookingOutcome()
    for booking, segment in _confirmed_bookings_with_segment(flight_id):
        try:
            booking_segment_move(
                booking=booking,
                segment=segment,
                to_flight_id=to_flight_id,
                actor=actor,
                by_airline=True,
                reason=reason,
                flight_cancelled=True,
            )
        except ApplicationError as error:
            outcome.not_rebooked[booking.reference] = error.detail
            continue
        outcome.rebooked.append(booking.reference)

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


def _confirmed_bookings_with_segment(flight_id: int) -> list[tuple[Booking, int]]:
    """The confirmed bookings with a seat on the flight, each with the segment that flight is, by id."""
    segments = dict(
        SeatAssignment.objects.filter(
            flight_id=flight_id, active=True, booking__status=Booking.Status.CONFIRMED
        )
        .values_list("booking_id", "segment")
        .distinct()
    )
    bookings = Booking.objects.filter(pk__in=segments).order_by("pk")
    return [(booking, segments[booking.pk]) for booking in bookings]
