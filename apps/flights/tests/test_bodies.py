"""The hot paths' plain bodies and parameter readers do exactly what the documented serializers do."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rest_framework.utils.encoders import JSONEncoder

from apps.core.exceptions import ValidationFailed
from apps.flights.api.flights import FlightSearchInput, search_criteria
from apps.flights.api.serializers import (
    FlightOutput,
    SeatMapOutput,
    flight_body,
    flight_row_body,
    seat_map_body,
)
from apps.flights.models import Flight
from apps.flights.selectors import (
    SEARCH_ROW_FIELDS,
    FlightSearchCriteria,
    flight_get,
    flight_search_page,
    flight_seat_map,
)
from apps.flights.tests.factories import AirplaneFactory, AirportFactory, CityFactory, FlightFactory

pytestmark = pytest.mark.django_db


def as_json(data) -> object:
    return json.loads(json.dumps(data, cls=JSONEncoder))


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"premium_economy_fare": Decimal("9100.50"), "first_fare": Decimal("88000"), "gate": ""},
        {"departure_time": datetime(2031, 3, 30, 0, 30, 0, 123456, tzinfo=UTC), "status": "cancelled"},
    ],
)
def test_flight_body_is_the_flight_serializers_json(fields):
    new_york = AirportFactory(
        iata_code="JFK", time_zone="America/New_York", city=CityFactory(name="New York")
    )
    flight = FlightFactory(
        airplane=AirplaneFactory(layout__rows=4, layout__business_rows=1),
        arrival_airport=new_york,
        base_fare=Decimal("4500"),
        **fields,
    )
    flight = flight_get(flight_id=flight.pk)

    assert flight_body(flight) == as_json(FlightOutput(flight).data)


@pytest.mark.parametrize("fields", [{}, {"premium_economy_fare": Decimal("9100.50"), "gate": ""}])
def test_a_search_row_is_the_flights_values_and_its_body_the_flight_serializers_json(fields):
    flight = FlightFactory(airplane=AirplaneFactory(layout__rows=4, layout__business_rows=1), **fields)

    found = flight_search_page(criteria=FlightSearchCriteria(), page=1, page_size=20)

    (row,) = found.rows
    assert found.count == 1
    assert row == Flight.objects.filter(pk=flight.pk).values(*SEARCH_ROW_FIELDS).get()
    assert flight_row_body(row) == as_json(FlightOutput(flight_get(flight_id=flight.pk)).data)


def test_the_seat_map_body_is_the_seat_map_serializers_json():
    flight = FlightFactory(airplane=AirplaneFactory(layout__rows=3, layout__business_rows=1), first_fare=None)
    seat_map = flight_seat_map(flight_id=flight.pk)

    assert seat_map_body(seat_map) == as_json(SeatMapOutput(seat_map).data)


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"trips": "bom-del", "price": "1000-5000", "travellers": "2", "tripDate": "2027-01-02"},
        {"trips": " BOM-DEL ", "sort": "price_desc,duration_asc", "price": "1000"},
        {"trips": "BOMDEL", "price": "5000-1000", "travellers": "0", "tripDate": "2027-02-30", "sort": "x"},
        {
            "trips": "BOM-BOM",
            "price": "1.234",
            "travellers": "١",
            "tripDate": "1900-01-01",
            "sort": "price_asc,price_desc",
        },
        {"trips": "A" * 21, "price": "1" * 41, "travellers": "123456", "sort": "s" * 201},
        {"trips": "BOM-DEL\x00", "price": ""},
    ],
)
def test_the_search_parameters_are_read_as_their_serializer_would(query):
    serializer = FlightSearchInput(data=query)

    if serializer.is_valid():
        data = serializer.validated_data
        trips, price = data.get("trips"), data.get("price")
        assert search_criteria(query) == FlightSearchCriteria(
            departure_codes=(trips[0],) if trips else (),
            arrival_codes=(trips[1],) if trips else (),
            price_min=price[0] if price else None,
            price_max=price[1] if price else None,
            travellers=data.get("travellers"),
            trip_date=data.get("tripDate"),
            sort=data.get("sort") or (),
        )
    else:
        with pytest.raises(ValidationFailed) as refused:
            search_criteria(query)
        assert refused.value.errors == {
            name: [str(m) for m in messages] for name, messages in serializer.errors.items()
        }
