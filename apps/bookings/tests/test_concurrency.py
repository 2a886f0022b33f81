"""Races on real threads against MariaDB, for both locking strategies (docs/ARCHITECTURE.md, "Holds")."""

import random
import time
from collections import Counter

import pytest
from django.core.management import call_command

from apps.bookings.models import Booking, SeatAssignment
from apps.bookings.selectors import inventory_violations
from apps.bookings.services import booking_cancel, booking_holds_expire
from apps.bookings.tests.factories import booking_flight, hold, make_overdue
from apps.bookings.tests.racing import outcome_counts, race
from apps.core.exceptions import ApplicationError

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_300_racers_for_100_seats_sell_exactly_100(strategy, customer):
    flight = booking_flight(rows=25, letters="ABCD")  # 100 seats

    results = race([lambda: hold(customer, flight)] * 300)

    assert outcome_counts(results) == Counter({"ok": 100, "sold_out": 200})
    flight.refresh_from_db()
    assert flight.available_seats == 0
    active = list(
        SeatAssignment.objects.filter(flight=flight, active=True).values_list("seat_code", flat=True)
    )
    assert len(active) == len(set(active)) == 100
    assert Booking.objects.filter(flight=flight).count() == 100
    call_command("check_inventory")


def test_50_racers_for_the_last_seat_sell_it_once(strategy, customer, other_customer):
    flight = booking_flight(rows=1, letters="ABCDEF")
    hold(other_customer, flight, count=5)

    results = race([lambda: hold(customer, flight)] * 50)

    assert outcome_counts(results) == Counter({"ok": 1, "sold_out": 49})
    flight.refresh_from_db()
    assert flight.available_seats == 0
    assert SeatAssignment.objects.filter(flight=flight, active=True).count() == 6
    assert inventory_violations() == []


def test_20_racers_for_seat_12a_get_it_once(strategy, customer):
    flight = booking_flight(rows=20)

    results = race([lambda: hold(customer, flight, seats=["12A"])] * 20)

    assert outcome_counts(results) == Counter({"ok": 1, "seat_unavailable": 19})
    assert list(SeatAssignment.objects.filter(flight=flight).values_list("seat_code", flat=True)) == ["12A"]
    flight.refresh_from_db()
    assert flight.available_seats == 119


def _attempt(kind: str, call, *args, **kwargs) -> str:
    try:
        call(*args, **kwargs)
    except ApplicationError as error:
        return f"{kind}:{error.code}"
    return f"{kind}:ok"


def test_random_mix_of_holds_cancels_and_expiries_keeps_the_invariant(strategy, customer, other_customer):
    # given a small flight, so that holds, cancels and expiries fight over the same seats
    flight = booking_flight(rows=6, letters="ABCD")  # 24 seats
    users = [customer, other_customer]
    seed = random.randrange(1_000_000)
    deadline = time.monotonic() + 3.0

    def worker(index: int) -> Counter:
        rng = random.Random(seed + index)
        user = users[index % 2]
        outcomes: Counter = Counter()
        while time.monotonic() < deadline:
            action = rng.random()
            if action < 0.55:
                count = rng.randint(1, 4)
                seats = None
                if rng.random() < 0.3:
                    seats = sorted({f"{rng.randint(1, 6)}{rng.choice('ABCD')}" for _ in range(count)})
                    count = len(seats)
                outcomes[_attempt("hold", hold, user, flight, count=count, seats=seats)] += 1
            elif action < 0.8:
                held = Booking.objects.filter(flight=flight, owner=user, status=Booking.Status.HELD).first()
                if held:
                    outcomes[_attempt("cancel", booking_cancel, booking=held, actor=user)] += 1
            else:
                held = Booking.objects.filter(flight=flight, status=Booking.Status.HELD).order_by("?").first()
                if held:
                    make_overdue(held)
                outcomes[_attempt("expire", booking_holds_expire, batch_size=3)] += 1
        return outcomes

    # when 8 threads mix them for a few seconds
    results = race([lambda i=i: worker(i) for i in range(8)], workers=8)

    # then no refusal was unexpected, and the seats add up
    assert all(isinstance(result, Counter) for result in results), f"seed {seed}: {results}"
    totals = sum(results, Counter())
    allowed = {
        "hold:ok",
        "hold:sold_out",
        "hold:seat_unavailable",
        "cancel:ok",
        "cancel:booking_not_cancellable",
    }
    allowed |= {"expire:ok"}
    assert set(totals) <= allowed, f"seed {seed}: {totals}"
    assert totals["hold:ok"] > 20, f"seed {seed}: {totals}"
    assert totals["cancel:ok"] > 0, f"seed {seed}: {totals}"
    assert Booking.objects.filter(flight=flight, status=Booking.Status.EXPIRED).exists(), f"seed {seed}"
    assert inventory_violations() == [], f"seed {seed}"
    flight.refresh_from_db()
    active = SeatAssignment.objects.filter(flight=flight, active=True)
    assert flight.available_seats == 24 - active.count()
    assert not active.exclude(booking__status__in=Booking.ACTIVE_STATUSES).exists()
    assert not SeatAssignment.objects.filter(
        flight=flight, active=None, booking__status=Booking.Status.HELD
    ).exists()
    call_command("check_inventory")
