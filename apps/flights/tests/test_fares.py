"""Fare families on a flight (apps/flights/services/fares.py); a price split (apps/flights/fares.py)."""

from decimal import Decimal

import pytest

from apps.core.exceptions import ValidationFailed
from apps.flights.fares import airport_charge, price_split
from apps.flights.models import Cabin, Flight
from apps.flights.services import flight_update
from apps.flights.services.fares import flight_family_fares_set
from apps.flights.tests.factories import (
    AirportFactory,
    FareFamilyFactory,
    FlightFactory,
    flight_with_families,
    standard_families,
)

pytestmark = pytest.mark.django_db


def business_flight() -> Flight:
    return FlightFactory(airplane__layout__rows=10, airplane__layout__business_rows=2)


def test_family_prices_are_stored_on_the_flight_and_each_cabin_fare_is_its_cheapest_family():
    flight = business_flight()

    flight_with_families(flight, {"ECO_SAVER": "4100.00", "ECO_FLEX": "5900.50", "BUS_FLEX": "16000"})

    flight.refresh_from_db()
    assert flight.family_fares == {
        "ECO_SAVER": {"cabin": "economy", "price": "4100.00"},
        "ECO_FLEX": {"cabin": "economy", "price": "5900.50"},
        "BUS_FLEX": {"cabin": "business", "price": "16000.00"},
    }
    assert (flight.base_fare, flight.business_fare) == (Decimal("4100.00"), Decimal("16000.00"))
    assert flight.family_fare("ECO_FLEX") == ("economy", Decimal("5900.50"))
    assert flight.family_fare("NOPE") is None
    assert (flight.cheapest_family(Cabin.ECONOMY), flight.cheapest_family(Cabin.FIRST)) == ("ECO_SAVER", "")


@pytest.mark.parametrize(
    ("prices", "field", "message"),
    [
        ({"ECO_SAVER": "0"}, "family_fares.ECO_SAVER", "Must be a positive amount"),
        ({"ECO_SAVER": "-5"}, "family_fares.ECO_SAVER", "Must be a positive amount"),
        ({"ECO_SAVER": "12.345"}, "family_fares.ECO_SAVER", "to the cent"),
        ({"ECO_SAVER": "cheap"}, "family_fares.ECO_SAVER", "Must be an amount"),
        ({"MYSTERY": "100"}, "family_fares.MYSTERY", "No fare family 'MYSTERY'."),
        ({"BUS_FLEX": "15000"}, "family_fares.BUS_FLEX", "The airplane has no business cabin."),
    ],
)
def test_bad_family_prices_are_refused_naming_the_family_and_nothing_changes(prices, field, message):
    standard_families()
    flight = FlightFactory(airplane__layout__rows=10)  # economy only

    with pytest.raises(ValidationFailed) as refused:
        flight_family_fares_set(flight_id=flight.pk, prices=prices)

    assert list(refused.value.errors) == [field]
    assert message in refused.value.errors[field][0]
    flight.refresh_from_db()
    assert (flight.family_fares, flight.base_fare) == ({}, Decimal("4500.00"))


def test_a_cabin_priced_by_families_refuses_a_direct_fare_change_but_other_fields_change():
    flight = flight_with_families(business_flight())

    with pytest.raises(ValidationFailed) as refused:
        flight_update(flight_id=flight.pk, data={"base_fare": Decimal("999.00")})
    flight_update(flight_id=flight.pk, data={"gate": "B7"})

    assert refused.value.errors == {
        "base_fare": ["This cabin is priced by its fare families: change their prices."]
    }
    flight.refresh_from_db()
    assert (flight.base_fare, flight.gate) == (Decimal("4500.00"), "B7")


def test_family_defaults_for_children_and_infants():
    family = FareFamilyFactory(code="ECO_X")

    assert (family.child_percent, family.infant_percent) == (75, 10)


def test_a_price_is_split_into_the_airport_charge_the_percentage_tax_and_the_base_fare(settings):
    settings.FARE_TAX_PERCENT = {"economy": "5", "business": "12"}
    airport = AirportFactory(
        departure_charge_name="User development fee",
        departure_charge=Decimal("620.00"),
        departure_charge_currency="INR",
    )

    economy = price_split(Decimal("4500.00"), cabin="economy", charge=airport_charge(airport, "INR"))
    business = price_split(Decimal("15000.00"), cabin="business", charge=None)

    # 4500 - 620 = 3880 = base × 1.05 → base 3695.24, GST 184.76
    assert economy.base_fare == Decimal("3695.24")
    assert economy.taxes == [
        {"code": "GST", "name": "GST", "amount": "184.76"},
        {"code": "AIRPORT", "name": "User development fee", "amount": "620.00"},
    ]
    assert economy.total == Decimal("4500.00")
    assert (business.base_fare, business.taxes) == (
        Decimal("13392.86"),
        [{"code": "GST", "name": "GST", "amount": "1607.14"}],
    )


def test_an_airport_charge_in_another_currency_is_not_part_of_the_price():
    airport = AirportFactory(
        departure_charge_name="Passenger service charge",
        departure_charge=Decimal("10.00"),
        departure_charge_currency="USD",
    )

    assert airport_charge(airport, "INR") is None
    assert airport_charge(airport, "USD") == ("Passenger service charge", Decimal("10.00"))
