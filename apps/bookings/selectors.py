"""Reads of bookings, shaped for the API, the pages and the admin."""

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import User
from apps.bookings.exceptions import BookingNotFound
from apps.bookings.models import Booking, Passenger, SeatAssignment
from apps.core.exceptions import ValidationFailed
from apps.core.models import AuditEvent
from apps.core.permissions import staff_may
from apps.flights.models import Flight
from apps.flights.seating import TAKEN, airplane_positions, taken_positions


def _bookings_with_details() -> QuerySet[Booking]:
    """Bookings with their flight, airports, passengers and seats: a constant number of queries."""
    return Booking.objects.select_related(
        "flight__airplane", "flight__departure_airport__city", "flight__arrival_airport__city"
    ).prefetch_related(Prefetch("passengers", queryset=passengers_with_seats()))


def passengers_with_seats() -> QuerySet[Passenger]:
    """Passengers in order, each with its seat assignments and their flights (a journey's segments:
    `Booking.journey`) prefetched."""
    return Passenger.objects.order_by("position").prefetch_related(
        Prefetch(
            "seat_assignments",
            queryset=SeatAssignment.objects.select_related(
                "flight__airplane", "flight__departure_airport__city", "flight__arrival_airport__city"
            ).order_by("segment"),
        )
    )


def booking_segment_flights(booking: Booking) -> list[Flight]:
    """The flight of each segment of `booking`, in journey order, with airplane and airports."""
    if booking.segment_count == 1:
        return [booking.flight]
    from apps.bookings.locks import booking_flight_ids

    ids = booking_flight_ids(booking_id=booking.pk)
    flights = Flight.objects.select_related(
        "airplane", "departure_airport__city", "arrival_airport__city"
    ).in_bulk(ids)
    return [flights[pk] for pk in ids]


def staff_sees_all_bookings(user: User) -> bool:
    """Whether `user` sees every customer's bookings: staff holding bookings.view_booking, as in the
    admin. Anyone else, staff without it too, sees their own, and another's is BookingNotFound (404)."""
    return staff_may(user, "bookings.view_booking")


def booking_list(*, user: User, status: str | None = None) -> QuerySet[Booking]:
    """The user's own bookings, newest first (everyone's for `staff_sees_all_bookings`), optionally
    of one status.

    Raises ValidationFailed (400) for an unknown status.
    """
    bookings = _bookings_with_details()
    if not staff_sees_all_bookings(user):
        bookings = bookings.filter(owner=user)
    if status is not None:
        if status not in Booking.Status.values:
            raise ValidationFailed(
                "Unknown booking status.",
                errors={"status": [f"Must be one of: {', '.join(Booking.Status.values)}."]},
            )
        bookings = bookings.filter(status=status)
    return bookings.order_by("-created_at", "-id")


def booking_get_for_user(*, reference: str, user: User) -> Booking:
    """One booking by reference, for its owner or `staff_sees_all_bookings`; anyone else gets
    BookingNotFound (404)."""
    bookings = _bookings_with_details().filter(reference=reference.strip().upper())
    if not staff_sees_all_bookings(user):
        bookings = bookings.filter(owner=user)
    booking = bookings.first()
    if booking is None:
        raise BookingNotFound()
    return booking


def booking_get_by_reference(*, reference: str) -> Booking | None:
    """One booking by reference, with what its pages show, whoever it belongs to: for a caller who
    proved they may see it some other way (apps/bookings/access.py)."""
    return _bookings_with_details().filter(reference=reference.strip().upper()).first()


def booking_get_owned(*, reference: str, user: User) -> Booking:
    """The caller's own booking (what they may pay); anyone else's, staff's too, is BookingNotFound (404)."""
    booking = Booking.objects.filter(reference=reference.strip().upper(), owner=user).first()
    if booking is None:
        raise BookingNotFound()
    return booking


def booking_own_with_seats(
    *, user: User, flight_id: int, seats: list[str]
) -> tuple[Booking | None, list[str]]:
    """The user's own active booking (held, paying or confirmed) on a flight that has exactly `seats`,
    if there is one, and which of `seats` the user's active bookings there hold: what a passenger
    form resubmitted after its seats were held (back, then submit again) should lead to."""
    rows = list(
        SeatAssignment.objects.filter(
            flight_id=flight_id,
            active=True,
            booking__owner=user,
            booking__status__in=Booking.ACTIVE_STATUSES,
            booking__seat_assignments__seat_code__in=seats,
        )
        .values_list("booking_id", "seat_code")
        .distinct()
    )
    seats_by_booking: dict[int, set[str]] = {}
    for booking_id, code in rows:
        seats_by_booking.setdefault(booking_id, set()).add(code)
    own = sorted({code for codes in seats_by_booking.values() for code in codes} & set(seats))
    exact = [booking_id for booking_id, codes in seats_by_booking.items() if codes == set(seats)]
    return (booking_get(booking_id=exact[0]) if exact else None), own


def booking_own_hold_with_names(
    *, user: User, flight_ids: Sequence[int], names: list[tuple[str, str]]
) -> Booking | None:
    """The user's own unexpired hold of exactly these flights, in travel order (one for one-way), whose
    passengers are exactly `names`, in order (the same people cannot fly twice on one flight): what an
    "any seat" passenger form submitted again from a fresh page should lead to instead of a second hold.
    """
    holds = _bookings_with_details().filter(
        owner=user,
        flight_id=flight_ids[0],
        segment_count=len(flight_ids),
        status=Booking.Status.HELD,
        hold_expires_at__gt=timezone.now(),
    )
    wanted = [(first.strip().casefold(), last.strip().casefold()) for first, last in names]
    for booking in holds:
        passengers = list(booking.passengers.all())
        held = [(p.first_name.casefold(), p.last_name.casefold()) for p in passengers]
        if held == wanted and booking_journey_flight_ids(booking) == list(flight_ids):
            return booking
    return None


def booking_journey_flight_ids(booking: Booking) -> list[int]:
    """The flight of each segment of a booking fetched with its details, in travel order (no query)."""
    if booking.segment_count == 1:
        return [booking.flight_id]
    return [segment.flight.pk for segment in booking.journey()]


@dataclass(frozen=True)
class MoneyRecord:
    """What happened to a booking's money, from the payment and refund records (the payments app's).

    `paid` is every charge the booking kept (its payment and its flight changes', `change_charged` of
    it), kept or given back since; `change_refunded` what changes to cheaper flights gave back of it;
    `refunded` what its cancellation gives back (decided, or made), None while it is not cancelled.
    """

    paid: Decimal | None = None
    paid_at: datetime | None = None
    refunded: Decimal | None = None
    refunded_at: datetime | None = None
    change_charged: Decimal = Decimal("0")
    change_refunded: Decimal = Decimal("0")

    @property
    def net_paid(self) -> Decimal:
        """What the booking holds of the traveller's money now: paid, less what changes gave back."""
        return (self.paid or Decimal("0")) - self.change_refunded


MoneyReader = Callable[[list[int]], dict[int, MoneyRecord]]

_money_reader: MoneyReader | None = None


def register_money_reader(reader: MoneyReader) -> None:
    """Let the payments app tell what each booking was charged and refunded (bookings must not import
    payments, as for refunds: apps/bookings/services/cancellation.py, `register_refund_handler`).

    `reader(booking_ids)` answers in one query, leaving out bookings never charged.
    """
    global _money_reader
    _money_reader = reader


def booking_money_record(booking: Booking) -> MoneyRecord:
    """What `booking` was charged and refunded (one query), an empty record when never charged or when
    no money reader is registered."""
    if _money_reader is None:
        return MoneyRecord()
    return _money_reader([booking.pk]).get(booking.pk, MoneyRecord())


class CancelledBy:
    """Who cancelled a booking, as its traveller is told."""

    TRAVELLER = "traveller"
    AIRLINE_FLIGHT = "airline_flight"  # the airline cancelled the flight
    AIRLINE = "airline"  # airline staff cancelled this booking


def bookings_money_attach(bookings: Iterable[Booking]) -> list[Booking]:
    """Give each booking `money` (its MoneyRecord) and, when cancelled, `cancelled_by` (CancelledBy),
    from the real records: the payments and refunds, and the cancellation's audit row. Two queries
    whatever the number of bookings."""
    bookings = list(bookings)
    records = _money_reader([booking.pk for booking in bookings]) if _money_reader and bookings else {}
    cancelled = [booking.reference for booking in bookings if booking.status == Booking.Status.CANCELLED]
    by_staff = (
        {
            reference: bool(detail.get("by_airline"))
            for reference, detail in AuditEvent.objects.filter(
                subject_type=AuditEvent.Subject.BOOKING,
                action=AuditEvent.Action.STAFF_CANCELLED,
                subject_ref__in=cancelled,
            ).values_list("subject_ref", "detail")
        }
        if cancelled
        else {}
    )
    for booking in bookings:
        booking.money = records.get(booking.pk, MoneyRecord())
        booking.cancelled_by = None
        if booking.status == Booking.Status.CANCELLED:
            if booking.reference not in by_staff:
                booking.cancelled_by = CancelledBy.TRAVELLER
            elif by_staff[booking.reference]:
                booking.cancelled_by = CancelledBy.AIRLINE_FLIGHT
            else:
                booking.cancelled_by = CancelledBy.AIRLINE
    return bookings


def booking_get(*, booking_id: int) -> Booking:
    """One booking by id with its details (after a service has created or changed it)."""
    return _bookings_with_details().get(pk=booking_id)


@dataclass(frozen=True)
class InventoryViolation:
    flight_id: int
    flight_number: str
    total_seats: int
    available_seats: int
    active_assignments: int
    # Seats whose mark in Flight.seats_taken disagrees with the active seat assignments.
    seats_mismarked: tuple[str, ...] = ()

    @property
    def expected_available(self) -> int:
        return self.total_seats - self.active_assignments


def inventory_violations() -> list[InventoryViolation]:
    """Flights whose inventory disagrees with their active seat assignments (should be none): the
    counter (available_seats != total_seats − active assignments), or the marks of taken seats
    (`Flight.seats_taken`, a seat marked taken without an active assignment or the other way round).

    Read in one consistent snapshot, so a check made while bookings commit never sees half of one.
    """
    with _consistent_snapshot():
        flights = list(
            Flight.objects.annotate(
                active_assignments=Count("seat_assignments", filter=Q(seat_assignments__active=True))
            )
            .filter(
                Q(active_assignments__gt=0)
                | Q(seats_taken__contains=TAKEN)
                | ~Q(available_seats=F("total_seats"))
            )
            .order_by("pk")
        )
        assigned_codes: dict[int, list[str]] = {}
        for flight_id, code in SeatAssignment.objects.filter(
            active=True, flight_id__in=[flight.pk for flight in flights]
        ).values_list("flight_id", "seat_code"):
            assigned_codes.setdefault(flight_id, []).append(code)
    violations = []
    layouts: dict[int, dict[str, int]] = {}
    for flight in flights:
        if flight.airplane_id not in layouts:
            layouts[flight.airplane_id] = airplane_positions(flight.airplane_id)
        positions = layouts[flight.airplane_id]
        assigned = {positions.get(code, -1) for code in assigned_codes.get(flight.pk, [])}
        codes = {position: code for code, position in positions.items()}
        mismarked = tuple(
            sorted(
                codes.get(position, f"#{position}")
                for position in assigned ^ taken_positions(flight.seats_taken)
            )
        )
        # Added, not subtracted: the columns are unsigned and a broken row must not overflow.
        if flight.total_seats != flight.available_seats + flight.active_assignments or mismarked:
            violations.append(
                InventoryViolation(
                    flight_id=flight.pk,
                    flight_number=flight.flight_number,
                    total_seats=flight.total_seats,
                    available_seats=flight.available_seats,
                    active_assignments=flight.active_assignments,
                    seats_mismarked=mismarked,
                )
            )
    return violations


@contextmanager
def _consistent_snapshot() -> Iterator[None]:
    """A transaction whose reads all see one moment: REPEATABLE READ on MariaDB (the site runs READ
    COMMITTED, where each statement sees its own); SQLite's transactions see one moment anyway."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "mysql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield
