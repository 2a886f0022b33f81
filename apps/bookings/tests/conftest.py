"""Fixtures of the bookings tests: both locking strategies, flights with a known layout."""

from contextlib import ExitStack
from dataclasses import fields

import pytest

from apps.bookings import events
from apps.bookings.tests.factories import booking_flight


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
    with ExitStack() as stack:
        for event in (events.booking_held, events.booking_cancelled, events.booking_expired):

            def record(payload, name=event.name) -> None:
                recorded.append(
                    (name, {field.name: getattr(payload, field.name) for field in fields(payload)})
                )

            stack.enter_context(event.subscribed(record))
        yield recorded
