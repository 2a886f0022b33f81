"""Fixtures of the bookings tests: both locking strategies, flights with a known layout."""

import pytest

from apps.bookings.tests.factories import booking_flight
from apps.core import events


@pytest.fixture(params=["pessimistic", "optimistic"])
def strategy(request, settings) -> str:
    """Runs the test once per BOOKING_LOCK_STRATEGY: both must pass the same suite."""
    settings.BOOKING_LOCK_STRATEGY = request.param
    return request.param


@pytest.fixture
def flight(db):
    """Rows 1–2 business (A C D F), rows 3–20 economy (A–F): 116 seats."""
    return booking_flight(rows=20, business_rows=2)


@pytest.fixture
def published():
    """Records the domain events published during the test, as (name, payload) pairs."""
    recorded: list[tuple[str, dict]] = []
    names = ("booking.held", "booking.cancelled", "booking.expired")
    recorders = {name: (lambda name=name, **payload: recorded.append((name, payload))) for name in names}
    for name, recorder in recorders.items():
        events.subscribe(name, recorder)
    yield recorded
    for name, recorder in recorders.items():
        events._subscribers[name].remove(recorder)
