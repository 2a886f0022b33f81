"""A year of sales, written in bulk, to measure the dashboard on (its tests and
`manage.py sales_dashboard_timing`).

Not the booking workflow: rows are written as the workflow would have left them (a paid booking has a
succeeded payment, a refunded one a refund and a refunded payment, an upcoming flight's bookings hold
seats and its seat counter agrees), in a few dozen statements instead of one transaction per booking.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db.models import Count, F, OuterRef, Subquery

from apps.accounts.models import User
from apps.bookings.models import Booking, Passenger, SeatAssignment
from apps.flights.models import Airplane, Airport, Cabin, CabinSection, City, Flight
from apps.payments.models import Payment, Refund

BATCH = 1000
ROWS, LETTERS = 20, "ABCDEF"
ROUTES = [("SMA", "SMB"), ("SMB", "SMA"), ("SMA", "SMC"), ("SMC", "SMA"), ("SMB", "SMC"), ("SMC", "SMB")]
CURRENCIES = ("INR", "INR", "INR", "INR", "USD", "USD")  # per route: two currencies, never added up
FLIGHTS_PER_ROUTE_PER_DAY = 3
UPCOMING_DAYS = 14
HOLD_MINUTES = 10


@dataclass(frozen=True)
class SampleYear:
    bookings: int
    flights: int
    refunds: int


def sample_year_create(*, bookings: int, now: datetime, days: int = 365, seed: int = 2026) -> SampleYear:
    """Flights over the past `days` and the next UPCOMING_DAYS, and `bookings` bookings made over the
    past `days`: about 60 % paid (1 in 10 of those refunded since), 25 % expired, the rest cancelled
    unpaid or still held. Bookings of upcoming flights hold a seat each."""
    rng = random.Random(seed)
    now = now.replace(microsecond=0)
    airports = _airports()
    airplane = _airplane()
    owner = User.objects.create(
        email=f"sample-{seed}-{now:%Y%m%d%H%M%S}@example.com", name="Sample", password=make_password(None)
    )

    Flight.objects.bulk_create(
        [
            Flight(
                flight_number=f"SM{route * 10 + slot + 100}",
                airplane=airplane,
                departure_airport=airports[origin],
                arrival_airport=airports[destination],
                departure_time=departure,
                arrival_time=departure + timedelta(hours=2),
                currency=CURRENCIES[route],
                base_fare=Decimal("4000.00") if CURRENCIES[route] == "INR" else Decimal("120.00"),
                total_seats=airplane.capacity,
                available_seats=airplane.capacity,
            )
            for day in range(-days, UPCOMING_DAYS)
            for route, (origin, destination) in enumerate(ROUTES)
            for slot in range(FLIGHTS_PER_ROUTE_PER_DAY)
            for departure in [now + timedelta(days=day, hours=6 + 5 * slot)]
        ],
        batch_size=BATCH,
    )
    flights = list(
        Flight.objects.filter(flight_number__startswith="SM", airplane=airplane).order_by("departure_time")
    )
    upcoming = [flight for flight in flights if flight.departure_time >= now]

    references = (f"Z{_base31(index, 5)}" for index in range(bookings))
    made = []
    for index, reference in enumerate(references):
        created = now - timedelta(seconds=rng.randrange(1, days * 86400))
        # One in ten on an upcoming flight, so the load factor has seats to count.
        pool = upcoming if index % 10 == 0 else flights
        flight = pool[rng.randrange(len(pool))]
        booking = Booking(
            reference=reference,
            owner=owner,
            flight=flight,
            total_amount=flight.base_fare,
            currency=flight.currency,
            hold_expires_at=created + timedelta(minutes=HOLD_MINUTES),
        )
        outcome = rng.random()
        if outcome < 0.60:
            booking.status = Booking.Status.CONFIRMED
            booking.confirmed_at = created + timedelta(minutes=rng.randrange(1, 10))
            if outcome < 0.06:
                booking.status = Booking.Status.CANCELLED
                booking.cancelled_at = booking.confirmed_at + timedelta(days=rng.randrange(0, 5))
        elif outcome < 0.85:
            booking.status = Booking.Status.EXPIRED
            booking.expired_at = created + timedelta(minutes=HOLD_MINUTES)
        elif outcome < 0.95:
            booking.status = Booking.Status.CANCELLED
            booking.cancelled_at = created + timedelta(minutes=rng.randrange(1, 10))
        made.append(booking)
    Booking.objects.bulk_create(made, batch_size=BATCH)
    # created_at is auto_now_add, which bulk_create sets to now: put the planned times back, in one
    # statement (every hold was made HOLD_MINUTES before it was due to expire).
    Booking.objects.filter(owner=owner).update(
        created_at=F("hold_expires_at") - timedelta(minutes=HOLD_MINUTES)
    )
    made = list(Booking.objects.filter(owner=owner).order_by("id"))

    paid = [booking for booking in made if booking.confirmed_at is not None]
    Payment.objects.bulk_create(
        [
            Payment(
                booking=booking,
                owner=owner,
                amount=booking.total_amount,
                currency=booking.currency,
                status=Payment.Status.REFUNDED if booking.cancelled_at else Payment.Status.SUCCEEDED,
                payment_method="tok_visa",
                gateway_idempotency_key=f"sample_{booking.pk}",
                succeeded_for=booking,
                processed_at=booking.confirmed_at,
            )
            for booking in paid
        ],
        batch_size=BATCH,
    )
    payments = {payment.booking_id: payment for payment in Payment.objects.filter(owner=owner)}
    refunds = [
        Refund(
            payment=payments[booking.pk],
            gateway_idempotency_key=f"refund_{payments[booking.pk].pk}",
            amount=booking.total_amount,
            currency=booking.currency,
            reason="sample",
        )
        for booking in paid
        if booking.cancelled_at
    ]
    Refund.objects.bulk_create(refunds, batch_size=BATCH)
    # A refund was made when its booking was cancelled.
    Refund.objects.filter(payment__owner=owner).update(
        created_at=Subquery(Booking.objects.filter(payments=OuterRef("payment")).values("cancelled_at")[:1])
    )

    _seat_upcoming_bookings(made, upcoming)
    return SampleYear(bookings=len(made), flights=len(flights), refunds=len(refunds))


def _base31(number: int, width: int) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXY23456789"
    digits = []
    for _ in range(width):
        number, digit = divmod(number, len(alphabet))
        digits.append(alphabet[digit])
    return "".join(reversed(digits))


def _airports() -> dict[str, Airport]:
    city, _ = City.objects.get_or_create(name="Sample City", country="IN")
    return {
        code: Airport.objects.get_or_create(
            iata_code=code,
            defaults={
                "name": f"Sample {code}",
                "city": city,
                "time_zone": "Asia/Kolkata",
                "latitude": 19.0,
                "longitude": 72.8,
            },
        )[0]
        for code in {code for route in ROUTES for code in route}
    }


def _airplane() -> Airplane:
    airplane = Airplane.objects.create(
        model_name="A320", registration=f"VT-S{Airplane.objects.count():05d}"[:10]
    )
    CabinSection.objects.create(
        airplane=airplane, cabin=Cabin.ECONOMY, first_row=1, last_row=ROWS, seat_letters=LETTERS
    )
    airplane.capacity = ROWS * len(LETTERS)
    airplane.save(update_fields=["capacity"])
    return airplane


def _seat_upcoming_bookings(made: list[Booking], upcoming: list[Flight]) -> None:
    """Each active booking of an upcoming flight gets a passenger and a seat; the counter follows."""
    on_upcoming = {flight.pk: flight for flight in upcoming}
    seated = [
        booking
        for booking in made
        if booking.flight_id in on_upcoming and booking.status in Booking.ACTIVE_STATUSES
    ]
    Passenger.objects.bulk_create(
        [
            Passenger(booking=booking, position=1, first_name="Sample", last_name=booking.reference)
            for booking in seated
        ],
        batch_size=BATCH,
    )
    passengers = {
        passenger.booking_id: passenger for passenger in Passenger.objects.filter(booking__in=seated)
    }
    taken: dict[int, int] = {}
    assignments = []
    for booking in seated:
        seat = taken.get(booking.flight_id, 0)
        if seat >= ROWS * len(LETTERS):
            continue
        taken[booking.flight_id] = seat + 1
        assignments.append(
            SeatAssignment(
                flight_id=booking.flight_id,
                booking=booking,
                passenger=passengers[booking.pk],
                seat_code=f"{seat // len(LETTERS) + 1}{LETTERS[seat % len(LETTERS)]}",
                cabin=Cabin.ECONOMY,
                fare=booking.total_amount,
            )
        )
    SeatAssignment.objects.bulk_create(assignments, batch_size=BATCH)
    seats_taken = (
        SeatAssignment.objects.filter(flight=OuterRef("pk"), active=True)
        .values("flight")
        .annotate(taken=Count("id"))
        .values("taken")
    )
    Flight.objects.filter(pk__in=list(taken)).update(available_seats=F("total_seats") - Subquery(seats_taken))
