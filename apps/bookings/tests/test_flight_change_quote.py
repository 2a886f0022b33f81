"""What a traveller's flight change costs (apps/bookings/services/flight_changes.py, docs/FARES.md,
"Changing a flight"): the fare of the same family on the new flight, a child's and an infant's share of
it, the family's change fee per seat, a cheaper fare's difference refunded or kept by the fare's
rules, and every refusal. Real bookings, paid through the real payment service."""

from datetime import timedelta
from decimal import Decimal

import pytest

from apps.bookings.exceptions import (
    BookingNotFound,
    BookingNotMovable,
    ChangeNotAllowed,
    MoveRouteMismatch,
    QuoteInvalid,
    SoldOut,
)
from apps.bookings.services import booking_hold_create
from apps.bookings.services.flight_changes import (
    change_quote_token_read,
    flight_change_options,
    flight_change_quote,
)
from apps.bookings.services.holds import travel_date
from apps.bookings.tests.factories import booking_flight, passengers
from apps.flights.models import FareFamily, Flight
from apps.flights.search_cache import catalogue_version_bump
from apps.flights.services.fares import flight_family_fares_set
from apps.flights.tests.factories import flight_with_families
from apps.payments.tests.changing import change_route, paid_in

pytestmark = pytest.mark.django_db


def family_with_child_and_infant(flight: Flight) -> list[dict]:
    travel = travel_date(flight)
    return [
        {"first_name": "Asha", "last_name": "Rao"},
        {
            "first_name": "Dev",
            "last_name": "Rao",
            "type": "child",
            "date_of_birth": travel - timedelta(days=6 * 365),
        },
        {
            "first_name": "Mira",
            "last_name": "Rao",
            "type": "infant",
            "date_of_birth": travel - timedelta(days=200),
            "travelling_with": 1,
        },
    ]


PRICES = {"ECO_SAVER": "5000.00", "ECO_FLEX": "6000.00", "BUS_FLEX": "16000.00"}


def test_a_dearer_saver_fare_pays_the_difference_and_the_change_fee(customer):
    old, new = change_route(PRICES)
    booking = paid_in(customer, old, "ECO_SAVER")

    quote = flight_change_quote(booking=booking, segment=1, to_flight_id=new.pk, actor=customer)

    assert (quote.old_fares, quote.new_fares) == (Decimal("4500.00"), Decimal("5000.00"))
    assert (quote.fare_difference, quote.change_fee) == (Decimal("500.00"), Decimal("3000.00"))
    assert (quote.amount_due, quote.refund_due, quote.residual_kept) == (Decimal("3500.00"), 0, 0)
    # the new price is split for the new flight: 5000 - 620 = 4380 = base × 1.05
    (line,) = quote.lines
    assert (line.fare_family, line.split.base_fare) == ("ECO_SAVER", Decimal("4171.43"))
    assert line.split.taxes == [
        {"code": "GST", "name": "GST", "amount": "208.57"},
        {"code": "AIRPORT", "name": "User development fee", "amount": "620.00"},
    ]


def test_a_child_pays_its_share_and_the_fee_an_infant_its_share_and_no_fee(customer):
    old, new = change_route(PRICES)
    booking = paid_in(customer, old, "ECO_SAVER", family_with_child_and_infant(old))

    quote = flight_change_quote(booking=booking, segment=1, to_flight_id=new.pk, actor=customer)

    # adult 4500 → 5000, child 75 %: 3375 → 3750, infant 10 % of its adult's: 450 → 500
    assert [(line.passenger_type, line.old_price, line.new_price, line.fee) for line in quote.lines] == [
        ("adult", Decimal("4500.00"), Decimal("5000.00"), Decimal("3000.00")),
        ("child", Decimal("3375.00"), Decimal("3750.00"), Decimal("3000.00")),
        ("infant", Decimal("450.00"), Decimal("500.00"), Decimal("0")),
    ]
    assert [line.seat_code == "" for line in quote.lines] == [False, False, True]
    assert (quote.fare_difference, quote.change_fee) == (Decimal("925.00"), Decimal("6000.00"))
    assert quote.amount_due == Decimal("6925.00")


def test_a_cheaper_saver_fare_is_not_refunded_and_the_fee_is_still_paid(customer):
    old, new = change_route({**PRICES, "ECO_SAVER": "4000.00"})
    booking = paid_in(customer, old, "ECO_SAVER")

    quote = flight_change_quote(booking=booking, segment=1, to_flight_id=new.pk, actor=customer)

    assert quote.fare_difference == Decimal("-500.00")
    assert (quote.residual_kept, quote.amount_due, quote.refund_due) == (
        Decimal("500.00"),
        Decimal("3000.00"),
        0,
    )


def test_a_cheaper_flex_fare_is_refunded(customer):
    old, new = change_route(PRICES)  # Flex 6200 → 6000, no change fee
    booking = paid_in(customer, old, "ECO_FLEX", passengers(2))

    quote = flight_change_quote(booking=booking, segment=1, to_flight_id=new.pk, actor=customer)

    assert (quote.fare_difference, quote.change_fee) == (Decimal("-400.00"), Decimal("0"))
    assert (quote.amount_due, quote.refund_due, quote.residual_kept) == (0, Decimal("400.00"), 0)


def test_a_refundable_fare_takes_the_fee_off_its_refund_and_pays_what_the_refund_does_not_cover(customer):
    old, new = change_route(PRICES)
    FareFamily.objects.filter(code="ECO_FLEX").update(change_fee=Decimal("300.00"))
    catalogue_version_bump()  # as the admin's save does when it commits
    booking = paid_in(customer, old, "ECO_FLEX")

    small = flight_change_quote(booking=booking, segment=1, to_flight_id=new.pk, actor=customer)
    flight_family_fares_set(flight_id=new.pk, prices={**PRICES, "ECO_FLEX": "5000.00"})
    large = flight_change_quote(booking=booking, segment=1, to_flight_id=new.pk, actor=customer)

    # 6200 → 6000: 200 back, less the 300 fee: 100 to pay; 6200 → 5000: 1200 back less 300: 900 back
    assert (small.fare_difference, small.amount_due, small.refund_due) == (
        Decimal("-200.00"),
        Decimal("100.00"),
        0,
    )
    assert (large.fare_difference, large.amount_due, large.refund_due) == (
        Decimal("-1200.00"),
        0,
        Decimal("900.00"),
    )


def test_a_family_that_forbids_changes_is_refused(customer):
    old, new = change_route(PRICES)
    booking = paid_in(customer, old, "ECO_SAVER")
    FareFamily.objects.filter(code="ECO_SAVER").update(change_allowed=False)
    catalogue_version_bump()

    with pytest.raises(ChangeNotAllowed, match="Economy Saver, does not allow changes"):
        flight_change_quote(booking=booking, segment=1, to_flight_id=new.pk, actor=customer)
    with pytest.raises(ChangeNotAllowed):
        flight_change_options(booking=booking, segment=1, day=None, actor=customer)


def test_a_flight_not_selling_the_fare_is_refused(customer):
    old, new = change_route({"ECO_FLEX": "6000.00", "BUS_FLEX": "16000.00"})
    booking = paid_in(customer, old, "ECO_SAVER")

    with pytest.raises(ChangeNotAllowed, match="does not sell your fare, Economy Saver"):
        flight_change_quote(booking=booking, segment=1, to_flight_id=new.pk, actor=customer)


def test_a_held_booking_another_route_and_a_full_cabin_are_refused(customer, other_customer):
    old, new = change_route(PRICES)
    held = booking_hold_create(
        user=customer, flight_id=old.pk, passengers=passengers(1), fare_family="ECO_SAVER"
    )
    booking = paid_in(customer, old, "BUS_FLEX")
    elsewhere = flight_with_families(booking_flight(rows=10, business_rows=2), PRICES)
    for _ in range(2):  # the new flight's eight business seats taken
        booking_hold_create(
            user=other_customer, flight_id=new.pk, passengers=passengers(4), fare_family="BUS_FLEX"
        )

    with pytest.raises(BookingNotMovable, match="Only a paid booking"):
        flight_change_quote(booking=held, segment=1, to_flight_id=new.pk, actor=customer)
    with pytest.raises(MoveRouteMismatch):
        flight_change_quote(booking=booking, segment=1, to_flight_id=elsewhere.pk, actor=customer)
    with pytest.raises(SoldOut):
        flight_change_quote(booking=booking, segment=1, to_flight_id=new.pk, actor=customer)


def test_a_departed_flight_cannot_change_and_only_the_owner_asks(customer, other_customer, staff_user):
    old, new = change_route(PRICES)
    booking = paid_in(customer, old, "ECO_FLEX")

    with pytest.raises(BookingNotFound):
        flight_change_quote(booking=booking, segment=1, to_flight_id=new.pk, actor=other_customer)
    assert flight_change_quote(booking=booking, segment=1, to_flight_id=new.pk, actor=staff_user).refund_due
    Flight.objects.filter(pk=old.pk).update(status=Flight.Status.DEPARTED)
    with pytest.raises(BookingNotMovable, match="has departed"):
        flight_change_quote(booking=booking, segment=1, to_flight_id=new.pk, actor=customer)


def test_the_token_names_the_change_and_its_price(customer):
    old, new = change_route(PRICES)
    booking = paid_in(customer, old, "ECO_SAVER")
    quote = flight_change_quote(booking=booking, segment=1, to_flight_id=new.pk, actor=customer)

    promised = change_quote_token_read(quote.token, booking=booking, segment=1, to_flight_id=new.pk)

    assert (promised.amount_due, promised.refund_due) == (Decimal("3500.00"), Decimal("0"))
    with pytest.raises(QuoteInvalid):
        change_quote_token_read(quote.token, booking=booking, segment=1, to_flight_id=old.pk)
    with pytest.raises(QuoteInvalid):
        change_quote_token_read("forged", booking=booking, segment=1, to_flight_id=new.pk)


def test_the_options_list_the_days_flights_on_the_route_with_their_price_or_why_not(customer, other_customer):
    old, new = change_route(PRICES)
    full = flight_with_families(
        booking_flight(
            rows=1,
            letters="A",
            departure_airport=old.departure_airport,
            arrival_airport=old.arrival_airport,
            departure_time=new.departure_time + timedelta(hours=1),
            arrival_time=new.arrival_time + timedelta(hours=1),
        ),
        {"ECO_SAVER": "4700.00"},
    )
    booking_hold_create(user=other_customer, flight_id=full.pk, passengers=passengers(1))
    booking = paid_in(customer, old, "ECO_SAVER")

    from_flight, day, options = flight_change_options(booking=booking, segment=1, day=None, actor=customer)

    assert from_flight.pk == old.pk
    assert [(option.flight.pk, option.quote and option.quote.amount_due) for option in options] == [
        (new.pk, Decimal("3500.00")),
        (full.pk, None),
    ]
    assert options[1].refusal.code == "sold_out"
    _, next_day, later = flight_change_options(
        booking=booking, segment=1, day=day + timedelta(days=1), actor=customer
    )
    assert (next_day, later) == (day + timedelta(days=1), [])
