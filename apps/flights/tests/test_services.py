from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.exceptions import ValidationFailed
from apps.flights.exceptions import AirplaneInService, FlightHasBookings
from apps.flights.models import Airplane, CabinSection, Flight
from apps.flights.services import (
    airplane_create,
    airplane_delete,
    airplane_update,
    flight_create,
    flight_delete,
    flight_update,
)
from apps.flights.tests.factories import AirplaneFactory, FlightFactory

pytestmark = pytest.mark.django_db

A787 = [
    {"cabin": "business", "first_row": 1, "last_row": 8, "seat_letters": "ADGK"},
    {"cabin": "premium_economy", "first_row": 20, "last_row": 24, "seat_letters": "ACDEFHK"},
    {"cabin": "economy", "first_row": 30, "last_row": 54, "seat_letters": "ABCDEFGHK"},
]


def test_airplane_capacity_is_the_seats_of_its_layout():
    airplane = airplane_create(model_name="Boeing 787-9", registration="vt-wxz", cabin_sections=A787)

    assert airplane.capacity == 32 + 35 + 225
    assert airplane.registration == "VT-WXZ"
    assert airplane.cabin_sections.count() == 3


@pytest.mark.parametrize(
    ("sections", "error_key"),
    [
        ([], "cabin_sections"),
        ([{"cabin": "business", "first_row": 1, "last_row": 3, "seat_letters": "AC"}], "cabin_sections"),
        (
            [
                {"cabin": "economy", "first_row": 1, "last_row": 10, "seat_letters": "ABC"},
                {"cabin": "economy", "first_row": 10, "last_row": 12, "seat_letters": "ABC"},
            ],
            "cabin_sections.1.first_row",
        ),
        (
            [{"cabin": "economy", "first_row": 5, "last_row": 4, "seat_letters": "AB"}],
            "cabin_sections.0.last_row",
        ),
        (
            [{"cabin": "economy", "first_row": 0, "last_row": 4, "seat_letters": "AB"}],
            "cabin_sections.0.first_row",
        ),
        (
            [{"cabin": "economy", "first_row": 1, "last_row": 4, "seat_letters": "AAB"}],
            "cabin_sections.0.seat_letters",
        ),
        (
            [{"cabin": "economy", "first_row": 1, "last_row": 4, "seat_letters": "XYZ"}],
            "cabin_sections.0.seat_letters",
        ),
        ([{"cabin": "cargo", "first_row": 1, "last_row": 4, "seat_letters": "AB"}], "cabin_sections.0.cabin"),
    ],
)
def test_an_invalid_layout_is_refused_naming_the_section_field(sections, error_key):
    with pytest.raises(ValidationFailed) as raised:
        airplane_create(model_name="Test", registration="VT-BAD", cabin_sections=sections)

    assert error_key in raised.value.errors
    assert not Airplane.objects.filter(registration="VT-BAD").exists()


def test_a_used_registration_is_refused():
    AirplaneFactory(registration="VT-ONE")

    with pytest.raises(ValidationFailed) as raised:
        airplane_create(model_name="A320", registration="vt-one", cabin_sections=A787)

    assert list(raised.value.errors) == ["registration"]
    assert Airplane.objects.filter(registration="VT-ONE").count() == 1


def test_the_layout_of_an_airplane_without_flights_can_change():
    airplane = AirplaneFactory(layout__rows=10)

    airplane_update(airplane_id=airplane.pk, data={"cabin_sections": A787, "model_name": "787"})

    airplane.refresh_from_db()
    assert airplane.capacity == 292
    assert airplane.model_name == "787"


def test_the_layout_of_an_airplane_with_flights_cannot_change():
    flight = FlightFactory(airplane=AirplaneFactory(layout__rows=10))
    airplane = flight.airplane

    with pytest.raises(AirplaneInService):
        airplane_update(airplane_id=airplane.pk, data={"cabin_sections": A787})

    airplane.refresh_from_db()
    assert airplane.capacity == 60
    assert CabinSection.objects.filter(airplane=airplane).count() == 1


def test_an_airplane_with_flights_keeps_its_registration_editable():
    flight = FlightFactory()

    airplane_update(airplane_id=flight.airplane_id, data={"registration": "VT-NEW"})

    assert Airplane.objects.get(pk=flight.airplane_id).registration == "VT-NEW"


def test_an_airplane_with_flights_cannot_be_deleted():
    flight = FlightFactory()

    with pytest.raises(AirplaneInService):
        airplane_delete(airplane_id=flight.airplane_id)

    assert Airplane.objects.filter(pk=flight.airplane_id).exists()


def test_an_airplane_without_flights_is_deleted_with_its_layout():
    airplane = AirplaneFactory()

    airplane_delete(airplane_id=airplane.pk)

    assert not Airplane.objects.filter(pk=airplane.pk).exists()
    assert not CabinSection.objects.filter(airplane_id=airplane.pk).exists()


def flight_fields(airplane, bom, delhi, **overrides):
    departure = timezone.now().replace(microsecond=0) + timedelta(days=2)
    fields = {
        "flight_number": "AI101",
        "airplane_id": airplane.pk,
        "departure_airport": "BOM",
        "arrival_airport": "DEL",
        "departure_time": departure,
        "arrival_time": departure + timedelta(hours=2),
        "base_fare": Decimal("5000.00"),
        "business_fare": Decimal("18000.00"),
    }
    fields.update(overrides)
    return fields


def test_a_flight_takes_its_seats_from_the_airplane(bom, delhi):
    airplane = AirplaneFactory(layout__rows=20, layout__business_rows=2)

    flight = flight_create(**flight_fields(airplane, bom, delhi))

    assert flight.total_seats == flight.available_seats == airplane.capacity == 8 + 18 * 6
    assert flight.version == 0
    assert flight.fare_for("business") == Decimal("18000.00")


@pytest.mark.parametrize(
    ("overrides", "error_key"),
    [
        ({"arrival_airport": "BOM"}, "arrival_airport"),
        ({"departure_airport": "XXX"}, "departure_airport"),
        ({"arrival_time": "departure"}, "arrival_time"),
        ({"departure_time": "past"}, "departure_time"),
        ({"base_fare": Decimal("0")}, "base_fare"),
        ({"base_fare": Decimal("-1")}, "base_fare"),
        ({"business_fare": None}, "business_fare"),
        ({"first_fare": Decimal("90000")}, "first_fare"),
        ({"flight_number": "A1"}, "flight_number"),
        ({"currency": "rupees"}, "currency"),
        ({"gate": "GATE 12"}, "gate"),
        ({"airplane_id": 0}, "airplane_id"),
        ({"status": "boarding"}, "status"),
    ],
)
def test_an_invalid_flight_is_refused_naming_the_field(bom, delhi, overrides, error_key):
    airplane = AirplaneFactory(layout__rows=20, layout__business_rows=2)
    fields = flight_fields(airplane, bom, delhi)
    if overrides.get("arrival_time") == "departure":
        overrides["arrival_time"] = fields["departure_time"]
    if overrides.get("departure_time") == "past":
        overrides["departure_time"] = timezone.now() - timedelta(hours=3)
    fields.update(overrides)

    with pytest.raises(ValidationFailed) as raised:
        flight_create(**fields)

    assert list(raised.value.errors) == [error_key]
    assert not Flight.objects.exists()


def test_the_same_flight_number_cannot_depart_twice_at_the_same_time(bom, delhi):
    airplane = AirplaneFactory(layout__rows=20, layout__business_rows=2)
    fields = flight_fields(airplane, bom, delhi)
    flight_create(**fields)

    with pytest.raises(ValidationFailed) as raised:
        flight_create(**fields)

    assert list(raised.value.errors) == ["flight_number"]
    assert Flight.objects.count() == 1


def test_changing_the_airplane_of_an_unbooked_flight_resets_its_seats(bom, delhi):
    flight = FlightFactory(departure_airport=bom, arrival_airport=delhi, business_fare=None)
    bigger = AirplaneFactory(layout__rows=40)

    updated = flight_update(flight_id=flight.pk, data={"airplane_id": bigger.pk})

    assert updated.airplane_id == bigger.pk
    assert updated.total_seats == updated.available_seats == 240
    assert updated.version == flight.version + 1


def test_the_airplane_of_a_flight_with_sold_seats_cannot_change(bom, delhi):
    flight = FlightFactory(departure_airport=bom, arrival_airport=delhi, business_fare=None)
    Flight.objects.filter(pk=flight.pk).update(available_seats=flight.total_seats - 2)
    other = AirplaneFactory(layout__rows=40)

    with pytest.raises(FlightHasBookings):
        flight_update(flight_id=flight.pk, data={"airplane_id": other.pk})

    flight.refresh_from_db()
    assert flight.airplane_id != other.pk
    assert flight.available_seats == flight.total_seats - 2


def test_a_flight_with_sold_seats_is_not_cancelled_here_but_other_fields_change(bom, delhi):
    flight = FlightFactory(departure_airport=bom, arrival_airport=delhi, business_fare=None)
    Flight.objects.filter(pk=flight.pk).update(available_seats=flight.total_seats - 1)

    with pytest.raises(FlightHasBookings):
        flight_update(flight_id=flight.pk, data={"status": "cancelled"})
    updated = flight_update(flight_id=flight.pk, data={"gate": "d4", "base_fare": Decimal("4200")})

    assert updated.status == "scheduled"
    assert updated.gate == "D4"
    assert updated.base_fare == Decimal("4200")
    assert updated.available_seats == flight.total_seats - 1


def test_seat_counts_are_not_writable(bom, delhi):
    flight = FlightFactory(departure_airport=bom, arrival_airport=delhi, business_fare=None)

    with pytest.raises(ValidationFailed) as raised:
        flight_update(flight_id=flight.pk, data={"available_seats": 1, "total_seats": 1})

    assert set(raised.value.errors) == {"available_seats", "total_seats"}
    flight.refresh_from_db()
    assert flight.available_seats == flight.total_seats == 180


def test_a_booked_flight_cannot_be_deleted_an_unbooked_one_can(bom, delhi):
    booked = FlightFactory(departure_airport=bom, arrival_airport=delhi)
    Flight.objects.filter(pk=booked.pk).update(available_seats=booked.total_seats - 1)
    unbooked = FlightFactory(departure_airport=bom, arrival_airport=delhi)

    with pytest.raises(FlightHasBookings):
        flight_delete(flight_id=booked.pk)
    flight_delete(flight_id=unbooked.pk)

    assert list(Flight.objects.values_list("pk", flat=True)) == [booked.pk]


def test_seats_are_taken_conditionally_and_marked_without_overwriting_others():
    from apps.flights.services.seats import flight_seats_return, flight_seats_take_if_free

    flight = FlightFactory(airplane=AirplaneFactory(layout__rows=2, layout__letters="ABC"))  # 6 seats
    now = timezone.now()

    assert flight_seats_take_if_free(flight=flight, positions=[1, 4], now=now)
    assert flight_seats_take_if_free(flight=flight, positions=[0], now=now)  # a stale read: still free
    assert not flight_seats_take_if_free(flight=flight, positions=[2, 4], now=now)  # 4 is taken

    flight.refresh_from_db()
    assert (flight.seats_taken, flight.available_seats) == ("110010", 3)
    flight_seats_return(flight=flight, positions=[1])
    flight.refresh_from_db()
    assert (flight.seats_taken, flight.available_seats) == ("100010", 4)
    Flight.objects.filter(pk=flight.pk).update(status=Flight.Status.CANCELLED)
    assert not flight_seats_take_if_free(flight=flight, positions=[2], now=now)  # not on sale
