"""The hot answers' plain bodies are exactly what the documented serializers would produce."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from rest_framework.utils.encoders import JSONEncoder

from apps.flights.api.serializers import FlightOutput, flight_body
from apps.flights.selectors import flight_get
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
