from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.flights.tests.factories import AirportFactory, CityFactory, delhi_airport, mumbai_airport

UTC = ZoneInfo("UTC")


@pytest.fixture
def bom(db):
    return mumbai_airport()


@pytest.fixture
def delhi(db):
    return delhi_airport()


@pytest.fixture
def jfk(db):
    return AirportFactory(
        iata_code="JFK",
        name="John F Kennedy",
        city=CityFactory(name="New York", country="US"),
        time_zone="America/New_York",
        latitude=40.64,
        longitude=-73.78,
    )


@pytest.fixture
def trip_day() -> date:
    """A local date safely in the future."""
    return timezone.now().date() + timedelta(days=5)


def at(day: date, hour: int, minute: int, zone: str) -> datetime:
    """A local wall-clock time as a UTC datetime."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)
