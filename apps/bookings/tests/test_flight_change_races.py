"""Races of a traveller's flight change (apps/payments/services/changes.py) on real threads, MariaDB and
the simulated gateway, for both locking strategies: a change and a hold for the last seat, a change and
a cancellation of the same booking, the airline's free rebooking and new sales. Every outcome is
counted exactly; the money is never charged twice nor refunded above what was paid; `check_inventory`
is clean after each (apps/payments/tests/racing.py: how a single race is made deterministic)."""

import threading
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Sum

from apps.bookings.exceptions import QuoteChanged
from apps.bookings.models import Booking, FlightChange, SeatAssignment
from apps.bookings.pricing import seat_taxes
from apps.bookings.selectors import inventory_violations
from apps.bookings.services import booking_cancel, booking_hold_create
from apps.bookings.services.changes import booking_segment_move
from apps.bookings.services.quotes import booking_cancellation_quote
from apps.bookings.tests.factories import passengers
from apps.bookings.tests.racing import outcome_counts, race
from apps.core.exceptions import ApplicationError
from apps.core.models import AuditEvent
from apps.flights.models import Flight
from apps.payments.models import GatewayCharge, Payment, Refund
from apps.payments.tests.changing import NEW_PRICES, change_made, change_route, paid_in, quote_of
from apps.payments.tests.racing import WAIT_SECONDS, Gate, HookedGateway, threads

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

PAIRS = 6


def together(calls):
    """The calls, each waiting for all the others at a barrier before it acts."""
    barrier = threading.Barrier(len(calls))

    def waiting(call):
        def run():
            barrier.wait(timeout=WAIT_SECONDS)
            return call()

        return run

    return [waiting(call) for call in calls]


_pair = threading.local()


def pairs_racing(changes, others, *, from_charge: list[bool]):
    """Each change with its other call: the other starts with the change, or, where `from_charge` says
    so, once the change's charge has gone through, its seats not moved yet (the change's gateway stops
    there, `at_the_charge`, until both are ready; a change refused before charging lets it go)."""
    calls = []
    for change, other, at_charge in zip(changes, others, from_charge, strict=True):
        barrier = threading.Barrier(2)

        def changing(change=change, barrier=barrier, at_charge=at_charge):
            if not at_charge:
                barrier.wait(timeout=WAIT_SECONDS)
                return change()
            _pair.barrier = barrier
            try:
                return change()
            finally:
                if getattr(_pair, "barrier", None) is barrier:
                    _pair.barrier = None
                    barrier.wait(timeout=WAIT_SECONDS)

        def racing(other=other, barrier=barrier):
            barrier.wait(timeout=WAIT_SECONDS)
            return other()

        calls += [changing, racing]
    return calls


def at_the_charge() -> None:
    """HookedGateway's after_charge: meet the change's other call, once."""
    barrier = getattr(_pair, "barrier", None)
    if barrier is not None:
        _pair.barrier = None
        barrier.wait(timeout=WAIT_SECONDS)


@pytest.fixture
def gateway(settings):
    settings.PAYMENT_GATEWAY = "apps.payments.tests.racing.HookedGateway"
    HookedGateway.hooks = {}
    HookedGateway.calls = []
    yield HookedGateway
    HookedGateway.hooks = {}


def assert_money_bounded() -> None:
    """No payment refunded above what it charged, here or at the gateway; each charge logged once."""
    for payment in Payment.objects.exclude(gateway_reference=""):
        refunded = Refund.objects.filter(payment=payment).aggregate(total=Sum("amount"))["total"] or 0
        assert refunded <= payment.amount, payment
        charge = GatewayCharge.objects.get(reference=payment.gateway_reference)
        assert (charge.refunded_amount or 0) == refunded, payment


def assert_inventory_clean() -> None:
    assert inventory_violations() == []
    call_command("check_inventory")


def change_charges(booking: Booking) -> list[GatewayCharge]:
    keys = Payment.objects.filter(booking=booking, kind=Payment.Kind.CHANGE).values("gateway_idempotency_key")
    return list(GatewayCharge.objects.filter(idempotency_key__in=keys))


@pytest.mark.parametrize("family", ["ECO_SAVER", "ECO_FLEX"], ids=["charged", "refunded"])
def test_a_change_racing_a_hold_for_the_last_seat_of_the_new_flight_sells_it_once(
    strategy, gateway, customer, other_customer, family
):
    # given, PAIRS times, a paid booking of one (a Saver change charges 3500, a Flex change refunds 200)
    # and a later flight on its route with one economy seat left
    pairs = []
    for _ in range(PAIRS):
        old, new = change_route(rows=3)  # two business rows, one economy row of six
        booking = paid_in(customer, old, family)
        booking_hold_create(
            user=other_customer, flight_id=new.pk, passengers=passengers(5), fare_family=family
        )
        pairs.append((booking, quote_of(booking, new).token, old, new))

    # when the booking's change (once charged, if it costs something) and another traveller's hold for
    # that seat go at once
    gateway.hooks = {"after_charge": at_the_charge}
    changes = [
        lambda booking=booking, token=token, new=new: change_made(booking, new, token=token)
        for booking, token, _, new in pairs
    ]
    holds = [
        lambda new=new: booking_hold_create(
            user=other_customer, flight_id=new.pk, passengers=passengers(1), fare_family=family
        )
        for _, _, _, new in pairs
    ]
    results = race(pairs_racing(changes, holds, from_charge=[family == "ECO_SAVER"] * PAIRS))

    # then on each flight exactly one of them got the seat, and the other was told it is sold out
    changes, holds = outcome_counts(results[0::2]), outcome_counts(results[1::2])
    assert set(changes) <= {"ok", "sold_out"}
    assert set(holds) <= {"ok", "sold_out"}
    assert changes["ok"] + holds["ok"] == PAIRS
    for (booking, _, old, new), changed in zip(pairs, results[0::2], strict=True):
        new.refresh_from_db()
        assert new.available_seats == 2 * 4  # the business rows only
        booking.refresh_from_db()
        won = not isinstance(changed, Exception)
        assert booking.flight_id == (new.pk if won else old.pk)
        assert SeatAssignment.objects.filter(flight=old, booking=booking, active=True).count() == int(not won)
        assert SeatAssignment.objects.filter(flight=new, booking=booking, active=True).count() == int(won)
        charges = change_charges(booking)
        if family == "ECO_SAVER":
            # the winner's change was charged once and kept; the loser's was never charged, or was
            # charged and then refunded in full when its seat was gone
            if won:
                assert [(c.amount, c.status) for c in charges] == [(Decimal("3500.00"), "succeeded")]
            else:
                assert [c.status for c in charges] in ([], [GatewayCharge.Status.REFUNDED])
                assert all(c.refunded_amount == c.amount for c in charges)
        else:
            refunds = list(Refund.objects.filter(payment__booking=booking).values_list("kind", "amount"))
            assert refunds == ([(Refund.Kind.CHANGE, Decimal("200.00"))] if won else [])
        assert FlightChange.objects.filter(booking=booking, status=FlightChange.Status.DONE).count() == int(
            won
        )
    assert_money_bounded()
    assert_inventory_clean()


def test_a_change_racing_a_cancellation_of_the_same_booking_is_one_or_the_other_never_half(
    strategy, gateway, customer
):
    # given, PAIRS times, a paid Economy Flex booking (6200) and a later flight selling the Flex at 7000
    pairs = []
    for _ in range(PAIRS):
        old, new = change_route({**NEW_PRICES, "ECO_FLEX": "7000.00"})
        booking = paid_in(customer, old, "ECO_FLEX")
        pairs.append((booking, quote_of(booking, new).token, old, new))

    # when its traveller changes it (800 more) and cancels it (two tabs), half of them as the change
    # starts, half once it is charged
    gateway.hooks = {"after_charge": at_the_charge}
    changes = [
        lambda booking=booking, token=token, new=new: change_made(booking, new, token=token)
        for booking, token, _, new in pairs
    ]
    cancels = [
        lambda booking=booking: booking_cancel(booking=Booking.objects.get(pk=booking.pk), actor=customer)
        for booking, _, _, _ in pairs
    ]
    results = race(pairs_racing(changes, cancels, from_charge=[index % 2 == 1 for index in range(PAIRS)]))

    # then every booking ends cancelled, its seats back on both flights
    assert outcome_counts(results[1::2]) == {"ok": PAIRS}
    changes = outcome_counts(results[0::2])
    assert set(changes) <= {"ok", "booking_not_movable"}
    for (booking, _, old, new), changed in zip(pairs, results[0::2], strict=True):
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
        for flight in (old, new):
            assert not SeatAssignment.objects.filter(flight=flight, active=True).exists()
        actions = list(
            AuditEvent.objects.filter(subject_ref=booking.reference)
            .exclude(action="created")
            .order_by("pk")
            .values_list("action", flat=True)
        )
        final = Refund.objects.filter(payment__booking=booking, kind=Refund.Kind.FINAL)
        if not isinstance(changed, Exception):
            # changed, then cancelled: the new fare's refund (7000 less the Flex's 1500 fee) from both
            # payments, the change's first
            assert actions == ["changed", "cancelled"]
            assert FlightChange.objects.get(booking=booking).status == FlightChange.Status.DONE
            assert sorted(final.values_list("payment__kind", "amount")) == [
                ("booking", Decimal("4700.00")),
                ("change", Decimal("800.00")),
            ]
        else:
            # cancelled first: the old fare's refund (6200 less 1500) from the booking's payment, and a
            # change charge, if one was made, back in full; nothing moved
            assert actions == ["cancelled"]
            assert list(final.filter(payment__kind="booking").values_list("amount", flat=True)) == [
                Decimal("4700.00")
            ]
            assert all(charge.refunded_amount == charge.amount for charge in change_charges(booking))
            assert not FlightChange.objects.filter(booking=booking, status=FlightChange.Status.DONE).exists()
    assert_money_bounded()
    assert_inventory_clean()


def test_a_cancellation_made_while_the_change_is_charged_wins_and_the_change_charge_goes_back(
    gateway, customer
):
    # given a paid Saver booking (4500) and its change to a dearer Saver (3500 to pay) stopped just after
    # the gateway charged it, before the seats move
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    token = quote_of(booking, new).token
    charged = Gate()
    gateway.hooks = {"after_charge": charged}

    def change():
        try:
            return change_made(booking, new, token=token)
        except Exception as error:  # returned to the test, which asserts on it
            return error

    with threads(1) as start:
        changing = start(change)
        charged.wait_reached()
        # when the traveller cancels meanwhile (its refund decided and made under the booking's lock)
        gateway.hooks = {}
        booking_cancel(booking=Booking.objects.get(pk=booking.pk), actor=customer)
        charged.open()
        outcome = changing.result(timeout=WAIT_SECONDS)

    # then the change finds the booking cancelled: nothing moves and its charge goes back in full
    assert outcome.code == "booking_not_movable"
    assert "The charge was refunded." in outcome.detail
    booking.refresh_from_db()
    assert (booking.status, booking.flight_id) == (Booking.Status.CANCELLED, old.pk)
    (charge,) = change_charges(booking)
    assert (charge.amount, charge.refunded_amount) == (Decimal("3500.00"), Decimal("3500.00"))
    # and the cancellation refunded the old seat by its rule: a Saver's taxes and fees only
    seat = SeatAssignment.objects.get(booking=booking)
    assert (seat.flight_id, seat.fare) == (old.pk, Decimal("4500.00"))
    final = Refund.objects.get(payment__booking=booking, payment__kind="booking")
    assert final.amount == seat_taxes(seat) == Decimal("804.76")
    assert FlightChange.objects.get(booking=booking).status == FlightChange.Status.FAILED
    assert_money_bounded()
    assert_inventory_clean()


def test_a_cancellation_quoted_before_a_change_is_decided_again_on_the_changed_booking(customer):
    # given the traveller's cancellation quote (the old seat), then the booking changed in another tab
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    quoted = booking_cancellation_quote(booking=booking, actor=customer).amount
    change_made(booking, new)

    # when the cancel is confirmed with that quote, it is refused before any refund
    with pytest.raises(QuoteChanged):
        booking_cancel(booking=Booking.objects.get(pk=booking.pk), actor=customer, expected_refund=quoted)
    assert not Refund.objects.exists()

    # and without it, the booking as changed is cancelled: the new seat's taxes, from the change's charge
    booking_cancel(booking=Booking.objects.get(pk=booking.pk), actor=customer)
    seat = SeatAssignment.objects.get(booking=booking)
    assert list(Refund.objects.filter(amount__gt=0).values_list("payment__kind", "amount")) == [
        ("change", seat_taxes(seat))
    ]
    assert seat_taxes(seat) == Decimal("828.57") != quoted
    assert_money_bounded()
    assert_inventory_clean()


def test_the_airlines_free_rebooking_racing_new_sales_moves_no_money(
    strategy, customer, other_customer, staff_user
):
    # given 6 paid Economy Flex bookings on a flight and 8 buyers of the later flight's 6 economy seats
    old, new = change_route(rows=3)
    bookings = [paid_in(customer, old, "ECO_FLEX") for _ in range(6)]
    charges_before = GatewayCharge.objects.count()

    def rebook(booking):
        return lambda: booking_segment_move(
            booking=booking, segment=1, to_flight_id=new.pk, actor=staff_user, by_airline=True
        )

    sale = lambda: booking_hold_create(  # noqa: E731
        user=other_customer, flight_id=new.pk, passengers=passengers(1), fare_family="ECO_FLEX"
    )
    results = race(together([rebook(booking) for booking in bookings] + [sale] * 8))

    # then each economy seat went once, rebooked or sold
    moves, sales = outcome_counts(results[:6]), outcome_counts(results[6:])
    assert set(moves) <= {"ok", "sold_out"}
    assert set(sales) <= {"ok", "sold_out"}
    assert moves["ok"] + sales["ok"] == 6
    new.refresh_from_db()
    assert new.available_seats == 2 * 4
    # and nothing was charged or refunded: each moved booking keeps the fare it paid
    assert GatewayCharge.objects.count() == charges_before
    assert not Refund.objects.exists()
    for booking in bookings:
        booking.refresh_from_db()
        seat = SeatAssignment.objects.get(booking=booking)
        assert (seat.fare, booking.total_amount) == (Decimal("6200.00"), Decimal("6200.00"))
    assert AuditEvent.objects.filter(action="rebooked").count() == moves["ok"]
    assert_money_bounded()
    assert_inventory_clean()


def _waiting_for_the_flight(count: int) -> None:
    """Until `count` other sessions wait for a flight row this test holds (a lock, or the optimistic
    hold's conditional UPDATE)."""
    query = (
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE db = DATABASE() AND id <> CONNECTION_ID()"
        " AND command = 'Query' AND (info LIKE %s OR info LIKE %s)"
    )
    deadline = time.monotonic() + WAIT_SECONDS
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(query, ["%flights_flight%FOR UPDATE%", "UPDATE%flights_flight%"])
            if cursor.fetchone()[0] >= count:
                return
    raise AssertionError(f"{count} sessions never waited for the flight")


def test_a_refunding_change_first_in_line_for_the_last_seat_gets_it_and_the_hold_after_it_is_sold_out(
    strategy, customer, other_customer
):
    # given a paid Economy Flex booking (6200; 6000 on the later flight) and that flight's last seat
    old, new = change_route(rows=3)
    booking = paid_in(customer, old, "ECO_FLEX")
    booking_hold_create(
        user=other_customer, flight_id=new.pk, passengers=passengers(5), fare_family="ECO_FLEX"
    )
    token = quote_of(booking, new).token

    def hold():
        try:
            return booking_hold_create(
                user=other_customer, flight_id=new.pk, passengers=passengers(1), fare_family="ECO_FLEX"
            )
        except ApplicationError as error:
            return error

    # when the change reaches the new flight's row first and a hold right after it (the test holds the
    # row until both wait for it)
    with threads(2) as start:
        with transaction.atomic():
            Flight.objects.select_for_update().get(pk=new.pk)
            changing = start(lambda: change_made(booking, new, token=token))
            _waiting_for_the_flight(1)
            holding = start(hold)
            _waiting_for_the_flight(2)
        change, held = changing.result(timeout=WAIT_SECONDS), holding.result(timeout=WAIT_SECONDS)

    # then the change took the seat and refunded 200; the hold is sold out and took nothing
    assert change.status == FlightChange.Status.DONE
    assert held.code == "sold_out"
    new.refresh_from_db()
    assert new.available_seats == 2 * 4
    assert SeatAssignment.objects.get(booking=booking, active=True).flight_id == new.pk
    assert list(Refund.objects.values_list("kind", "amount")) == [(Refund.Kind.CHANGE, Decimal("200.00"))]
    assert Booking.objects.filter(flight=new, owner=other_customer).count() == 1
    assert_money_bounded()
    assert_inventory_clean()
