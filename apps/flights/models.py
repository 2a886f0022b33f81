from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import connection, models
from django.db.models import F, Q

from apps.core.models import TimeStampedModel

iata_code_validator = RegexValidator(r"^[A-Z]{3}$", "An IATA code is three upper-case letters.")
currency_validator = RegexValidator(r"^[A-Z]{3}$", "A currency is an ISO 4217 code such as INR.")
# A 2-character airline designator and 1 to 4 digits, e.g. AI101.
FLIGHT_NUMBER_PATTERN = r"^[A-Z0-9]{2}[0-9]{1,4}$"
flight_number_validator = RegexValidator(
    FLIGHT_NUMBER_PATTERN, "Must be a 2-character airline code and 1 to 4 digits, e.g. AI101."
)

# The most travellers one search or one booking is for (what airlines sell in one booking).
MAX_PARTY_SIZE = 9
# The most flights one journey has, searched or booked (one-way, return, multi-city).
MAX_SEGMENTS = 4
# The largest layout: 150 rows of at most 11 seat letters (A–K), with room to spare.
MAX_SEATS = 2000
# What the airline may tell travellers about why it cancelled a flight (a sentence or two).
CANCELLATION_REASON_MAX_LENGTH = 500


class Cabin(models.TextChoices):
    FIRST = "first", "First"
    BUSINESS = "business", "Business"
    PREMIUM_ECONOMY = "premium_economy", "Premium economy"
    ECONOMY = "economy", "Economy"


class City(TimeStampedModel):
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=2, validators=[RegexValidator(r"^[A-Z]{2}$")])
    alternative_names = models.TextField(
        blank=True,
        default="",
        help_text="Other names travellers search by (former or local names such as Bombay), one per line.",
    )

    class Meta:
        verbose_name_plural = "cities"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["name", "country"], name="city_unique_per_country")]

    def __str__(self) -> str:
        return f"{self.name}, {self.country}"

    @property
    def alternative_name_list(self) -> list[str]:
        return [name.strip() for name in self.alternative_names.splitlines() if name.strip()]


class Airport(TimeStampedModel):
    iata_code = models.CharField(max_length=3, unique=True, validators=[iata_code_validator])
    name = models.CharField(max_length=150, db_index=True)
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="airports")
    time_zone = models.CharField(max_length=64, help_text="IANA time zone, e.g. Asia/Kolkata")
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        ordering = ["iata_code"]

    def __str__(self) -> str:
        return f"{self.iata_code} {self.name}"


class Airplane(TimeStampedModel):
    """An aircraft; its seat layout is the set of its cabin sections."""

    model_name = models.CharField(max_length=50)
    registration = models.CharField(max_length=10, unique=True)
    capacity = models.PositiveIntegerField(default=0, editable=False, help_text="Seats in the layout.")

    class Meta:
        ordering = ["registration"]

    def __str__(self) -> str:
        return f"{self.registration} ({self.model_name})"


class CabinSection(models.Model):
    """Rows first_row..last_row of an airplane, in one cabin, each with the same seat letters."""

    airplane = models.ForeignKey(Airplane, on_delete=models.CASCADE, related_name="cabin_sections")
    cabin = models.CharField(max_length=20, choices=Cabin.choices)
    first_row = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    last_row = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    seat_letters = models.CharField(max_length=12, validators=[RegexValidator(r"^[A-K]+$")])

    class Meta:
        ordering = ["airplane", "first_row"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_row__gte=F("first_row")), name="cabin_section_rows_ordered"
            ),
            models.CheckConstraint(condition=Q(first_row__gte=1), name="cabin_section_first_row_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_cabin_display()} rows {self.first_row}-{self.last_row} {self.seat_letters}"

    @property
    def seat_count(self) -> int:
        return (self.last_row - self.first_row + 1) * len(self.seat_letters)


class Flight(TimeStampedModel):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"
        DEPARTED = "departed", "Departed"

    flight_number = models.CharField(max_length=8, validators=[flight_number_validator])
    airplane = models.ForeignKey(Airplane, on_delete=models.PROTECT, related_name="flights")
    departure_airport = models.ForeignKey(Airport, on_delete=models.PROTECT, related_name="departures")
    arrival_airport = models.ForeignKey(Airport, on_delete=models.PROTECT, related_name="arrivals")
    departure_time = models.DateTimeField()
    arrival_time = models.DateTimeField()
    currency = models.CharField(max_length=3, validators=[currency_validator], default="INR")
    # base_fare is the economy fare and what search filters and sorts on; the other cabins' fares
    # are NULL where the airplane has no such cabin.
    base_fare = models.DecimalField(max_digits=10, decimal_places=2)
    premium_economy_fare = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    business_fare = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    first_fare = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    gate = models.CharField(max_length=8, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    # Why the airline cancelled the flight, in words for its travellers (the website, the emails);
    # written once, by `flight_cancel` (apps/flights/services/flights.py).
    cancellation_reason = models.TextField(blank=True, default="", max_length=CANCELLATION_REASON_MAX_LENGTH)
    total_seats = models.PositiveIntegerField()
    available_seats = models.PositiveIntegerField()
    # Which seats are taken, one character per seat in layout order ("1" taken; "0" or past the end
    # free): apps/flights/seating.py. It moves with available_seats, in the same statement, so a hold
    # chooses its seats from the flight row it reads anyway instead of reading every taken seat.
    seats_taken = models.CharField(max_length=MAX_SEATS, blank=True, default="", editable=False)
    # Bumped by every change of available_seats.
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["departure_time", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(departure_airport=F("arrival_airport")), name="flight_airports_differ"
            ),
            models.CheckConstraint(
                condition=Q(arrival_time__gt=F("departure_time")), name="flight_arrives_after_departure"
            ),
            models.CheckConstraint(
                condition=Q(available_seats__gte=0) & Q(available_seats__lte=F("total_seats")),
                name="flight_available_seats_in_range",
            ),
            models.CheckConstraint(condition=Q(base_fare__gt=0), name="flight_base_fare_positive"),
            models.CheckConstraint(
                condition=(Q(premium_economy_fare__isnull=True) | Q(premium_economy_fare__gt=0))
                & (Q(business_fare__isnull=True) | Q(business_fare__gt=0))
                & (Q(first_fare__isnull=True) | Q(first_fare__gt=0)),
                name="flight_cabin_fares_positive",
            ),
            models.UniqueConstraint(
                fields=["flight_number", "departure_time"], name="flight_number_unique_per_time"
            ),
        ]
        indexes = [
            models.Index(
                fields=["departure_airport", "arrival_airport", "departure_time"], name="flight_route_idx"
            ),
            models.Index(fields=["departure_time"], name="flight_departure_idx"),
            models.Index(fields=["base_fare"], name="flight_fare_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.flight_number} {self.departure_time:%Y-%m-%d %H:%M}Z"

    def fare_for(self, cabin: str) -> Decimal | None:
        """The fare of a seat in `cabin`, None where the flight sells no such cabin."""
        return getattr(self, CABIN_FARE_FIELDS[cabin])

    # --- The sale rule: one place decides whether a flight can still be sold (held or paid). -------

    @staticmethod
    def sales_cutoff(now: datetime) -> datetime:
        """Flights departing before this moment are no longer sold (BOOKING_MIN_MINUTES_BEFORE_DEPARTURE)."""
        return now + timedelta(minutes=settings.BOOKING_MIN_MINUTES_BEFORE_DEPARTURE)

    @classmethod
    def on_sale(cls, now: datetime) -> Q:
        """The sale rule as a filter, for a conditional UPDATE that must decide it in the database."""
        return Q(status=cls.Status.SCHEDULED, departure_time__gte=cls.sales_cutoff(now))

    @classmethod
    def on_sale_sql(cls, now: datetime) -> tuple[str, list[Any]]:
        """The same filter as SQL and its parameters, for the hot path's UPDATE written by hand
        (apps/flights/services/seats.py); a test holds it to `on_sale`."""
        return "status = %s AND departure_time >= %s", [
            cls.Status.SCHEDULED,
            connection.ops.adapt_datetimefield_value(cls.sales_cutoff(now)),
        ]

    def sale_closed_reason(self, now: datetime) -> str | None:
        """Why this flight can no longer be sold at `now` (a sentence), or None while it is on sale.

        On sale: scheduled, and departing at least BOOKING_MIN_MINUTES_BEFORE_DEPARTURE minutes
        after `now` (the same rule as `on_sale`).
        """
        if self.status == self.Status.CANCELLED:
            return "The flight is cancelled."
        if self.has_departed(now):
            return "The flight has departed."
        if self.departure_time < self.sales_cutoff(now):
            return f"Bookings close {settings.BOOKING_MIN_MINUTES_BEFORE_DEPARTURE} minutes before departure."
        return None

    def has_departed(self, now: datetime) -> bool:
        """Marked departed, or its departure time has passed."""
        return self.status == self.Status.DEPARTED or self.departure_time <= now


# The fare column of each cabin; economy's fare is the flight's base fare (what search filters on).
CABIN_FARE_FIELDS: dict[str, str] = {
    Cabin.ECONOMY: "base_fare",
    Cabin.PREMIUM_ECONOMY: "premium_economy_fare",
    Cabin.BUSINESS: "business_fare",
    Cabin.FIRST: "first_fare",
}
