"""Reads of the flight operations page: a flight's load per cabin and its passenger manifest.

Both cost a fixed number of queries whatever the number of passengers: the load is one aggregate
over the flight's seat assignments, the manifest one joined query per page (or streamed for the CSV).
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import CharField, Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Concat, Length

from apps.bookings.models import Booking, Passenger, SeatAssignment
from apps.flights.exceptions import FlightNotFound
from apps.flights.models import Cabin, CabinSection, Flight

Status = Booking.Status

# Cabins in the order they sit on the airplane, from the nose.
CABIN_ORDER = [Cabin.FIRST, Cabin.BUSINESS, Cabin.PREMIUM_ECONOMY, Cabin.ECONOMY]


@dataclass(frozen=True)
class CabinLoad:
    """Seats of one cabin (or of the whole flight, `cabin` ""), by what holds them.

    `sold`: confirmed bookings. `held`: holds that have not expired. `paying`: bookings whose payment
    is running (they keep their seats until it ends). `lapsed`: holds past their expiry that the
    sweeper has not released yet (it runs every 30 s). `free`: seats nobody holds.
    """

    cabin: str
    label: str
    seats: int
    sold: int
    held: int
    paying: int
    lapsed: int

    @property
    def free(self) -> int:
        return self.seats - self.sold - self.held - self.paying - self.lapsed


@dataclass(frozen=True)
class FlightLoad:
    cabins: list[CabinLoad]
    total: CabinLoad
    # Bookings the flight's cancel would cancel, and of them the confirmed ones it would refund.
    active_bookings: int
    confirmed_bookings: int
    confirmed_amount: Decimal | None  # None when there is none


def flight_operations_get(*, flight_id: int) -> Flight:
    """The flight with its airplane and airports (one query). Raises FlightNotFound."""
    flight = (
        Flight.objects.select_related("airplane", "departure_airport__city", "arrival_airport__city")
        .filter(pk=flight_id)
        .first()
    )
    if flight is None:
        raise FlightNotFound(f"Flight {flight_id} does not exist.")
    return flight


def flight_load(*, flight: Flight, now: datetime) -> FlightLoad:
    """The flight's seats per cabin: sold, held, being paid, lapsed and free, at `now`. Three queries:
    the layout, one aggregate over the active seat assignments, one over the active bookings."""
    capacity: dict[str, int] = {}
    for section in CabinSection.objects.filter(airplane_id=flight.airplane_id):
        capacity[section.cabin] = capacity.get(section.cabin, 0) + section.seat_count
    taken = {
        row["cabin"]: row
        for row in SeatAssignment.objects.filter(flight_id=flight.pk, active=True)
        .values("cabin")
        .annotate(
            sold=Count("pk", filter=Q(booking__status=Status.CONFIRMED)),
            held=Count("pk", filter=Q(booking__status=Status.HELD, booking__hold_expires_at__gt=now)),
            paying=Count("pk", filter=Q(booking__status=Status.PAYING)),
            lapsed=Count("pk", filter=Q(booking__status=Status.HELD, booking__hold_expires_at__lte=now)),
        )
        .order_by()
    }
    labels = dict(Cabin.choices)
    cabins = [
        CabinLoad(
            cabin=cabin,
            label=labels[cabin],
            seats=capacity.get(cabin, 0),
            sold=taken.get(cabin, {}).get("sold", 0),
            held=taken.get(cabin, {}).get("held", 0),
            paying=taken.get(cabin, {}).get("paying", 0),
            lapsed=taken.get(cabin, {}).get("lapsed", 0),
        )
        for cabin in CABIN_ORDER
        if cabin in capacity or cabin in taken
    ]
    # A booking of several flights counts on each; its amount here is what its seats on this flight cost.
    bookings = SeatAssignment.objects.filter(
        flight_id=flight.pk, booking__status__in=Booking.ACTIVE_STATUSES
    ).aggregate(
        active=Count("booking_id", distinct=True),
        confirmed=Count("booking_id", distinct=True, filter=Q(booking__status=Status.CONFIRMED)),
        confirmed_amount=Sum("fare", filter=Q(booking__status=Status.CONFIRMED)),
    )
    return FlightLoad(
        cabins=cabins,
        total=CabinLoad(
            cabin="",
            label="All cabins",
            seats=sum(cabin.seats for cabin in cabins),
            sold=sum(cabin.sold for cabin in cabins),
            held=sum(cabin.held for cabin in cabins),
            paying=sum(cabin.paying for cabin in cabins),
            lapsed=sum(cabin.lapsed for cabin in cabins),
        ),
        active_bookings=bookings["active"],
        confirmed_bookings=bookings["confirmed"],
        confirmed_amount=bookings["confirmed_amount"],
    )


def flight_manifest(*, flight_id: int, include_ended: bool = False) -> QuerySet[SeatAssignment]:
    """One row per passenger and seat of the flight, with its passenger and booking, sorted by seat.

    By default the seats held, being paid or sold (active assignments); with `include_ended` also
    those of cancelled and expired bookings (released, so a seat may appear more than once). Seat
    codes are a row number and one letter, so ordering by length and then code sorts 2A before 10A.
    An infant has no seat: `infant_on_lap` names the one on the row's passenger's lap ("" for none),
    in the same query.
    """
    seats = SeatAssignment.objects.filter(flight_id=flight_id)
    if not include_ended:
        seats = seats.filter(active=True)
    infant = Passenger.objects.filter(
        booking_id=OuterRef("booking_id"),
        type=Passenger.Type.INFANT,
        travelling_with=OuterRef("passenger__position"),
    ).annotate(name=Concat("first_name", Value(" "), "last_name", output_field=CharField()))
    return (
        seats.select_related("passenger", "booking")
        .annotate(infant_on_lap=Subquery(infant.values("name")[:1], output_field=CharField()))
        .order_by(Length("seat_code"), "seat_code", "booking_id", "pk")
    )


def flight_rebookable_count(*, flight_id: int) -> dict[str, int]:
    """What a cancel with rebooking would try to move: the confirmed bookings with a seat on the flight
    and their passengers (one aggregate)."""
    return SeatAssignment.objects.filter(
        flight_id=flight_id, active=True, booking__status=Status.CONFIRMED
    ).aggregate(bookings=Count("booking_id", distinct=True), passengers=Count("pk"))
