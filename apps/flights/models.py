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
    # A fee the airport charges each departing passenger (e.g. India's "User development fee"), in
    # the airport's currency. It is part of a fare's price only on flights sold in that same
    # currency (docs/FARES.md, "How a price is made"); None: the airport charges nothing.
    departure_charge_name = models.CharField(max_length=60, blank=True, default="")
    departure_charge = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0.01"))]
    )
    departure_charge_currency = models.CharField(
        max_length=3, blank=True, default="", validators=[currency_validator]
    )

    class Meta:
        ordering = ["iata_code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(departure_charge__isnull=True) | Q(departure_charge__gt=0),
                name="airport_departure_charge_positive",
            )
        ]

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
    # The price of each fare family sold on this flight, {code: {"cabin": cabin, "price": "4599.00"}},
    # written only by `flight_family_fares_set` (apps/flights/services/fares.py), which also keeps
    # each cabin's fare column above at its cheapest family. A column of the flight row rather than a
    # table: a hold reads and locks that row anyway, so its families' prices come with it and the
    # hold keeps its statements (docs/PROFILE.md, docs/FARES.md).
    family_fares = models.JSONField(default=dict, blank=True, editable=False)
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

    def family_fare(self, code: str) -> tuple[str, Decimal] | None:
        """(cabin, price) of the fare family `code` on this flight, None where it is not sold here."""
        entry = self.family_fares.get(code) if isinstance(self.family_fares, dict) else None
        if entry is None:
            return None
        return entry["cabin"], Decimal(entry["price"])

    def cheapest_family(self, cabin: str) -> str:
        """The code of the cheapest family sold in `cabin` on this flight ("" where none is): what a
        seat without a chosen family is sold as (its cabin's fare column holds the same price)."""
        prices = [
            (Decimal(entry["price"]), code)
            for code, entry in (self.family_fares or {}).items()
            if entry["cabin"] == cabin
        ]
        return min(prices)[1] if prices else ""

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


class FareFamily(TimeStampedModel):
    """A fare sold in one cabin with its rules: bags, refund and change (docs/FARES.md).

    Its price differs per flight (`Flight.family_fares`); the rules are the same on every flight.
    `child_percent` and `infant_percent` are the share of the adult fare a child or an infant pays.
    """

    class RefundRule(models.TextChoices):
        NONE = "none", "Non-refundable (taxes only)"
        FEE = "fee", "Refundable for a fee"
        FULL = "full", "Fully refundable"

    code = models.CharField(
        max_length=20,
        unique=True,
        validators=[
            RegexValidator(r"^[A-Z][A-Z0-9_]{1,19}$", "Upper-case letters, digits and _, e.g. ECO_SAVER.")
        ],
    )
    name = models.CharField(max_length=60)
    cabin = models.CharField(max_length=20, choices=Cabin.choices)
    display_order = models.PositiveSmallIntegerField(default=0)
    cabin_bag_kg = models.PositiveSmallIntegerField(default=7)
    checked_bags = models.PositiveSmallIntegerField(default=1)
    checked_bag_kg = models.PositiveSmallIntegerField(default=15)
    refund_rule = models.CharField(max_length=4, choices=RefundRule.choices, default=RefundRule.NONE)
    refund_fee = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    change_allowed = models.BooleanField(default=False)
    change_fee = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    child_percent = models.PositiveSmallIntegerField(default=75)
    infant_percent = models.PositiveSmallIntegerField(default=10)

    class Meta:
        verbose_name_plural = "fare families"
        ordering = ["display_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(refund_fee__gte=0) & Q(change_fee__gte=0), name="fare_family_fees_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(child_percent__lte=100) & Q(infant_percent__lte=100),
                name="fare_family_percents_at_most_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


# The fare column of each cabin; economy's fare is the flight's base fare (what search filters on).
CABIN_FARE_FIELDS: dict[str, str] = {
    Cabin.ECONOMY: "base_fare",
    Cabin.PREMIUM_ECONOMY: "premium_economy_fare",
    Cabin.BUSINESS: "business_fare",
    Cabin.FIRST: "first_fare",
}
