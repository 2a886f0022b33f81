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
    flight = models.ForeignKey(Flight, on_delete=models.PROTECT, related_name="bookings")
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


class Passenger(models.Model):
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="passengers")
    position = models.PositiveSmallIntegerField(help_text="1-based order within the booking.")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    # Online check-in (apps/bookings/services/check_in.py): when, and the passenger's check-in sequence
    # number on the flight (1, 2, … in check-in order), which the boarding pass carries.
    checked_in_at = models.DateTimeField(null=True, blank=True)
    check_in_number = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["booking", "position"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "position"], name="passenger_position_unique"),
        ]
        # Staff find a booking by a passenger's name (apps/bookings/admin.py: booking_search_filter).
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="passenger_name_idx"),
            models.Index(fields=["first_name"], name="passenger_first_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class SeatAssignment(models.Model):
    """One seat of a flight given to one passenger.

    MySQL has no partial unique index, so `active` is TRUE while the seat is held or sold and NULL
    once released: the unique (flight, seat_code, active) then admits one active row per seat and
    any number of released ones. Even a bug in the locking cannot sell one seat twice.
    """

    flight = models.ForeignKey(Flight, on_delete=models.PROTECT, related_name="seat_assignments")
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="seat_assignments")
    passenger = models.OneToOneField(Passenger, on_delete=models.CASCADE, related_name="seat_assignment")
    seat_code = models.CharField(max_length=4)
    cabin = models.CharField(max_length=20, choices=Cabin.choices)
    fare = models.DecimalField(max_digits=10, decimal_places=2)
    active = models.BooleanField(null=True, default=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["booking", "seat_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["flight", "seat_code", "active"], name="seat_assignment_active_unique"
            ),
            models.CheckConstraint(
                condition=Q(active=True) | Q(active__isnull=True), name="seat_assignment_active_true_or_null"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seat_code} on {self.flight_id}"
