from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from apps.flights.demo import AIRPORT_CODES, INDIAN_METROS, flight_minutes, great_circle_km
from apps.flights.models import Airplane, Airport, CabinSection, City, FareFamily, Flight

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (City, Airport, Airplane, CabinSection, Flight))


def test_load_demo_data_twice_adds_nothing_the_second_time():
    # given an empty catalogue and a two-day schedule starting tomorrow
    start = (timezone.now() + timedelta(days=1)).date().isoformat()
    first_output = StringIO()

    # when the command runs twice
    call_command("load_demo_data", "--days", "2", "--start-date", start, stdout=first_output)
    after_first = counts()
    second_output = StringIO()
    call_command("load_demo_data", "--days", "2", "--start-date", start, stdout=second_output)

    # then the second run added nothing
    assert counts() == after_first
    assert "0 cities, 0 airports, 0 airplanes and 0 flights added" in second_output.getvalue()
    assert "added (100%" in first_output.getvalue()  # progress was shown

    # and the first loaded real airports, a realistic fleet and a schedule
    assert Airport.objects.count() == len(AIRPORT_CODES) >= 40
    assert set(INDIAN_METROS) <= set(Airport.objects.values_list("iata_code", flat=True))
    bom = Airport.objects.select_related("city").get(iata_code="BOM")
    assert (bom.city.name, bom.city.country, bom.time_zone) == ("Mumbai", "IN", "Asia/Kolkata")
    capacities = dict(Airplane.objects.values_list("model_name", "capacity").distinct())
    assert capacities["Airbus A320"] == 180
    assert capacities["Boeing 737-800"] == 189
    assert capacities["Boeing 787-9"] > capacities["Airbus A321neo"]
    flights = Flight.objects.all()
    assert flights.count() == after_first[-1] > 2 * 300
    assert not flights.exclude(available_seats=F("total_seats")).exists()
    assert not flights.exclude(total_seats=F("airplane__capacity")).exists()
    assert not flights.filter(departure_time__lte=timezone.now()).exists()
    bom_del = Flight.objects.filter(departure_airport__iata_code="BOM", arrival_airport__iata_code="DEL")
    assert bom_del.count() == 2 * 10

    # and sold them in fare families: the Saver is the economy fare, Business Flex the business fare
    assert list(FareFamily.objects.values_list("code", flat=True)) == ["ECO_SAVER", "ECO_FLEX", "BUS_FLEX"]
    flight = bom_del.exclude(business_fare=None).first()
    assert Decimal(flight.family_fares["ECO_SAVER"]["price"]) == flight.base_fare
    assert Decimal(flight.family_fares["ECO_FLEX"]["price"]) > flight.base_fare
    assert Decimal(flight.family_fares["BUS_FLEX"]["price"]) == flight.business_fare
    assert (bom.departure_charge_name, bom.departure_charge_currency) == ("User development fee", "INR")


def test_flight_times_follow_great_circle_distance():
    distance = great_circle_km(19.0887, 72.8679, 28.5665, 77.1031)  # BOM-DEL

    assert 1100 < distance < 1200
    assert flight_minutes(distance) == 125
