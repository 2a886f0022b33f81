from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.core.models import TimeStampedModel
from apps.flights.models import Cabin, Flight

# A PNR-like reference: no 0/O, 1/I/L confusion (A–Z without I and O, digits 2–9: the two letters
# that read as digits are left out).
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 6


class Booking(TimeStampedModel):
    class Status(models.TextChoices):
        HELD = "held", "Held"
        PAYING = "paying", "Payment in progress"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    ACTIVE_STATUSES = (Status.HELD, Status.PAYING, Status.CONFIRMED)
    # Every status change a booking may make (docs/ARCHITECTURE.md draws it); the services in
    # apps/bookings/services/ are the only code that makes one, through `lifecycle.status_change`.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.HELD: frozenset({Status.PAYING, Status.CANCELLED, Status.EXPIRED}),
        Status.PAYING: frozenset({Status.HELD, Status.CONFIRMED, Status.CANCELLED}),
        Status.CONFIRMED: frozenset({Status.CANCELLED}),
        Status.CANCELLED: frozenset(),
        Status.EXPIRED: frozenset(),
    }

    reference = models.CharField(max_length=REFERENCE_LENGTH, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    # The journey's first flight. A booking of several flights (a return or multi-city trip, at most
    # MAX_SEGMENTS) says how many in `segment_count`; each passenger has one seat assignment per segment,
    # which names that segment's flight (docs/ARCHITECTURE.md, "Itineraries").
    flight = models.ForeignKey(Flight, on_delete=models.PROTECT, related_name="bookings")
    segment_count = models.PositiveSmallIntegerField(default=1, db_default=1)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.HELD)
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    hold_expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_amount__gte=0), name="booking_total_amount_non_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "hold_expires_at"], name="booking_status_expiry_idx"),
            models.Index(fields=["owner", "status"], name="booking_owner_status_idx"),
            # The sales dashboard's revenue per day reads a period of confirmations
            # (apps/dashboard/selectors.py); created_at is indexed by TimeStampedModel.
            models.Index(fields=["confirmed_at"], name="booking_confirmed_at_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    def journey(self) -> list["Segment"]:
        """Each flight of the booking with its passengers' seats, in journey order, from the prefetched
        passengers and seat assignments (`apps/bookings/selectors.py: passengers_with_seats`)."""
        passengers = list(getattr(self, "passengers_held", None) or self.passengers.all())
        known = getattr(self, "segment_flights", None)  # a hold's or a lock's answer
        segments = []
        for position in range(1, self.segment_count + 1):
            seats = [(passenger, passenger.seat_on(position)) for passenger in passengers]
            if known is not None:
                flight = known[position - 1]
            elif position == 1:
                flight = self.flight
            else:
                flight = next(seat.flight for _, seat in seats if seat is not None)
            segments.append(Segment(position=position, flight=flight, seats=seats))
        return segments


@dataclass(frozen=True)
class Segment:
    """One flight of a booking's journey and each passenger's seat on it (None: no seat)."""

    position: int
    flight: Flight
    seats: list[tuple["Passenger", "SeatAssignment | None"]]

    @property
    def active_seat_codes(self) -> list[str]:
        return [seat.seat_code for _, seat in self.seats if seat is not None and seat.active]


class Passenger(models.Model):
    class Type(models.TextChoices):
        ADULT = "adult", "Adult"
        CHILD = "child", "Child"
        INFANT = "infant", "Infant"

    # The types that take a seat; an infant travels on its adult's lap (docs/PASSENGERS.md).
    SEATED_TYPES = (Type.ADULT, Type.CHILD)

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="passengers")
    position = models.PositiveSmallIntegerField(help_text="1-based order within the booking.")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    type = models.CharField(max_length=6, choices=Type.choices, default=Type.ADULT, db_default=Type.ADULT)
    date_of_birth = models.DateField(null=True, blank=True)
    # An infant's adult, by the adult's `position` in the same booking: written in the passengers'
    # one INSERT, where the adult's id is not known yet (apps/bookings/services/holds.py).
    travelling_with = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="An infant's adult: that passenger's position."
    )

    class Meta:
        ordering = ["booking", "position"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "position"], name="passenger_position_unique"),
            # An infant travels on an adult's lap, and only an infant does (docs/PASSENGERS.md).
            models.CheckConstraint(
                condition=Q(type="infant", travelling_with__isnull=False)
                | (~Q(type="infant") & Q(travelling_with__isnull=True)),
                name="passenger_infant_travels_with_an_adult",
            ),
        ]
        # Staff find a booking by a passenger's name (apps/bookings/admin.py: booking_search_filter).
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="passenger_name_idx"),
            models.Index(fields=["first_name"], name="passenger_first_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_infant(self) -> bool:
        return self.type == self.Type.INFANT

    def label(self) -> str:
        """How a refusal names the passenger: "Passenger 3 (infant)"."""
        return f"Passenger {self.position} ({self.type})"

    def lap_fares(self) -> list["InfantFare"]:
        """An infant's price lines, one per segment: as the hold made them (`infant_fares_held`), or
        `infant_fares` (prefetch them to read many passengers'); none for anyone else."""
        if not self.is_infant:
            return []
        held = getattr(self, "infant_fares_held", None)
        return list(held if held is not None else self.infant_fares.all())

    def infant_fare_on(self, segment: int) -> "InfantFare | None":
        """An infant's price line on segment `segment` (1-based), or None."""
        return next((line for line in self.lap_fares() if line.segment == segment), None)

    def seats(self) -> list["SeatAssignment"]:
        """The passenger's seat assignments in journey order: as the hold made them (`seats_held`), or
        `seat_assignments` (prefetch them to read many passengers' seats in one query)."""
        held = getattr(self, "seats_held", None)
        if held is not None:
            return held
        return sorted(self.seat_assignments.all(), key=lambda seat: seat.segment)

    @property
    def seat_assignment(self) -> "SeatAssignment | None":
        """The passenger's seat on the journey's first flight."""
        return self.seat_on(1)

    def seat_on(self, segment: int) -> "SeatAssignment | None":
        """The passenger's seat on segment `segment` (1-based), or None."""
        return next((seat for seat in self.seats() if seat.segment == segment), None)


class SeatAssignment(models.Model):
    """One seat of a flight given to one passenger, on one segment of the booking's journey.

    MySQL has no partial unique index, so `active` is TRUE while the seat is held or sold and NULL
    once released: the unique (flight, seat_code, active) then admits one active row per seat and
    any number of released ones. Even a bug in the locking cannot sell one seat twice.
    """

    flight = models.ForeignKey(Flight, on_delete=models.PROTECT, related_name="seat_assignments")
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="seat_assignments")
    passenger = models.ForeignKey(Passenger, on_delete=models.CASCADE, related_name="seat_assignments")
    segment = models.PositiveSmallIntegerField(
        default=1, db_default=1, help_text="1-based, in journey order."
    )
    seat_code = models.CharField(max_length=4)
    cabin = models.CharField(max_length=20, choices=Cabin.choices)
    # What the seat costs, all in (docs/FARES.md): `fare` is the total, `base_fare` the airline's part
    # and `taxes` each tax or fee in it, [{"code", "name", "amount"}], written by the hold in the same
    # INSERT. Seats held before the breakdown was stored have no base fare (the fare is all base).
    fare = models.DecimalField(max_digits=10, decimal_places=2)
    base_fare = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    taxes = models.JSONField(default=list, blank=True)
    # The fare family the seat was sold as (a FareFamily code; "" where the flight sold none).
    fare_family = models.CharField(max_length=20, blank=True, default="")
    active = models.BooleanField(null=True, default=True)
    released_at = models.DateTimeField(null=True, blank=True)
    # Online check-in (apps/bookings/services/check_in.py), per passenger and flight: when, and the
    # check-in sequence number on the flight (1, 2, … in check-in order) that the boarding pass carries.
    checked_in_at = models.DateTimeField(null=True, blank=True)
    check_in_number = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["booking", "segment", "seat_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["passenger", "segment"], name="seat_assignment_passenger_segment"
            ),
            models.UniqueConstraint(
                fields=["flight", "seat_code", "active"], name="seat_assignment_active_unique"
            ),
            models.CheckConstraint(
                condition=Q(active=True) | Q(active__isnull=True), name="seat_assignment_active_true_or_null"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seat_code} on {self.flight_id}"


class InfantFare(models.Model):
    """An infant's price on one segment of the journey: an infant has no seat (it travels on its
    adult's lap, `Passenger.travelling_with`), so its fare cannot live on a SeatAssignment. The hold
    writes these in one more INSERT, only for a booking with infants (docs/PASSENGERS.md)."""

    passenger = models.ForeignKey(Passenger, on_delete=models.CASCADE, related_name="infant_fares")
    segment = models.PositiveSmallIntegerField(help_text="1-based, in journey order.")
    fare = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["passenger", "segment"]
        constraints = [
            models.UniqueConstraint(fields=["passenger", "segment"], name="infant_fare_passenger_segment"),
        ]

    def __str__(self) -> str:
        return f"{self.fare} on segment {self.segment}"


class FlightChange(TimeStampedModel):
    """A traveller's change of one flight of their booking to another on the same route, at the price
    of its quote (docs/FARES.md, "Changing a flight"): the change history staff read in the admin.

    `fare_difference` is the new fares less the old (signed, every passenger of the segment); the
    traveller paid `amount_due` (the difference and `change_fee`, through a payment of kind "change")
    or got `refund_due` back, and `residual_kept` of a cheaper fare was not refunded under the fare's
    rules. Written by apps/bookings/services/flight_changes.py only: PENDING while its payment runs,
    DONE once the seats moved, FAILED (with `failure_reason`) when they could not and nothing moved.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Being paid"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="flight_changes")
    segment = models.PositiveSmallIntegerField(help_text="1-based, in journey order.")
    from_flight = models.ForeignKey(Flight, on_delete=models.PROTECT, related_name="+")
    to_flight = models.ForeignKey(Flight, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The client's Idempotency-Key (the API's header, or the website's confirm page): a retry with it
    # finds this change instead of making another.
    idempotency_key = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    currency = models.CharField(max_length=3)
    fare_difference = models.DecimalField(max_digits=12, decimal_places=2)
    change_fee = models.DecimalField(max_digits=12, decimal_places=2)
    residual_kept = models.DecimalField(max_digits=12, decimal_places=2)
    amount_due = models.DecimalField(max_digits=12, decimal_places=2)
    refund_due = models.DecimalField(max_digits=12, decimal_places=2)
    failure_reason = models.CharField(max_length=255, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(change_fee__gte=0, residual_kept__gte=0, amount_due__gte=0, refund_due__gte=0)
                & (Q(amount_due=0) | Q(refund_due=0)),
                name="flight_change_amounts",
            ),
        ]
        indexes = [models.Index(fields=["booking", "idempotency_key"], name="flight_change_key_idx")]

    def __str__(self) -> str:
        return f"Change of {self.booking_id} flight {self.segment} ({self.status})"
