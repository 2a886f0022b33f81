"""A traveller's flight change, every money path (apps/payments/services/changes.py), against the real
database, the simulated gateway's ledger and the outbox: what is charged or refunded, once; what moves;
what a refusal leaves untouched; and what a later cancellation gives back."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from apps.bookings.exceptions import BookingNotMovable, ChangeNotAllowed, QuoteChanged, RefundFailed, SoldOut
from apps.bookings.models import Booking, FlightChange, SeatAssignment
from apps.bookings.selectors import booking_money_record, inventory_violations
from apps.bookings.services import booking_cancel, booking_hold_create
from apps.bookings.services.quotes import booking_cancellation_quote
from apps.bookings.tests.factories import passengers
from apps.core.audit import Action, Subject
from apps.core.models import AuditEvent
from apps.flights.models import FareFamily, Flight
from apps.flights.search_cache import catalogue_version_bump
from apps.flights.services.fares import flight_family_fares_set
from apps.notifications.models import Notification
from apps.payments.exceptions import PaymentDeclined, PaymentGatewayTimeout
from apps.payments.gateway import GatewayTimeout, SimulatedGateway
from apps.payments.models import GatewayCharge, GatewayRefund, Payment, Refund
from apps.payments.services import payments_reconcile_stuck
from apps.payments.tests.changing import NEW_PRICES, change_made, change_route, fares, paid_in, quote_of
from apps.payments.tests.racing import HookedGateway

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


@pytest.fixture
def gateway(settings):
    settings.PAYMENT_GATEWAY = "apps.payments.tests.racing.HookedGateway"
    HookedGateway.hooks = {}
    HookedGateway.calls = []
    yield HookedGateway
    HookedGateway.hooks = {}


def change_charges(booking: Booking) -> list[GatewayCharge]:
    keys = Payment.objects.filter(booking=booking, kind=Payment.Kind.CHANGE).values("gateway_idempotency_key")
    return list(GatewayCharge.objects.filter(idempotency_key__in=keys))


def seats_on(flight: Flight) -> int:
    flight.refresh_from_db()
    assert (
        SeatAssignment.objects.filter(flight=flight, active=True).count()
        == flight.total_seats - flight.available_seats
    )
    return flight.total_seats - flight.available_seats


def flight_changed_email(booking: Booking) -> str:
    return " ".join(Notification.objects.get(booking=booking, kind=Kind.FLIGHT_CHANGED).body_text.split())


def assert_inventory_clean() -> None:
    assert inventory_violations() == []
    call_command("check_inventory")


# --- a change that costs something: charged once, then moved --------------------------------------------


def test_a_dearer_change_charges_the_difference_and_the_fee_once_and_moves_the_seats(customer):
    # given a paid Economy Saver booking of 4500 and a later flight selling the Saver at 5000
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    old_seat = SeatAssignment.objects.get(booking=booking).seat_code

    # when the traveller changes to it with the quote's token
    change = change_made(booking, new)

    # then the difference and the change fee are charged once, through a payment of kind change
    assert (change.status, change.amount_due, change.refund_due) == (
        FlightChange.Status.DONE,
        Decimal("3500.00"),
        Decimal("0"),
    )
    payment = Payment.objects.get(booking=booking, kind=Payment.Kind.CHANGE)
    assert (payment.status, payment.amount, payment.succeeded_for_change_id) == (
        Payment.Status.SUCCEEDED,
        Decimal("3500.00"),
        change.pk,
    )
    assert [(charge.amount, charge.status) for charge in change_charges(booking)] == [
        (Decimal("3500.00"), GatewayCharge.Status.SUCCEEDED)
    ]
    assert GatewayCharge.objects.count() == 2  # the booking's own payment, and the change's
    # and the seat moved to the new flight at its new price, split for it
    booking.refresh_from_db()
    seat = SeatAssignment.objects.get(booking=booking)
    assert (booking.flight_id, seat.flight_id, seat.active, seat.fare_family) == (
        new.pk,
        new.pk,
        True,
        "ECO_SAVER",
    )
    assert (seat.fare, seat.base_fare, booking.total_amount) == (
        Decimal("5000.00"),
        Decimal("4171.43"),
        Decimal("5000.00"),
    )
    assert seat.seat_code == old_seat
    assert (seats_on(old), seats_on(new)) == (0, 1)
    # and what was paid adds up: 4500 for the booking, 3500 for the change
    money = booking_money_record(booking)
    assert (money.paid, money.change_charged, money.net_paid) == (
        Decimal("8000.00"),
        Decimal("3500.00"),
        Decimal("8000.00"),
    )
    # and the traveller is told what was charged; the trail has the change and its payment
    email = flight_changed_email(booking)
    assert "We charged INR 3,500 to your card." in email
    assert "Fare difference +INR 500" in email
    assert "Change fee INR 3,000" in email
    changed = AuditEvent.objects.get(subject_ref=booking.reference, action=Action.CHANGED)
    assert (changed.actor_id, changed.detail["amount_charged"], changed.detail["flight_change"]) == (
        customer.pk,
        "3500.00",
        change.pk,
    )
    paid_rows = AuditEvent.objects.filter(subject_type=Subject.PAYMENT, subject_ref=str(payment.pk))
    assert [(row.action, row.detail["kind"]) for row in paid_rows] == [(Action.PAID, "change")]
    assert_inventory_clean()


def test_a_retry_with_the_same_key_answers_the_change_made_without_a_second_charge(customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    token = quote_of(booking, new).token

    first = change_made(booking, new, key="k1", token=token)
    again = change_made(booking, new, key="k1", token=token)

    assert again.pk == first.pk
    # and so does one after the quote's token has expired (a reload of the page much later)
    assert change_made(booking, new, key="k1", token="expired-long-ago").pk == first.pk
    assert len(change_charges(booking)) == 1
    assert Payment.objects.filter(booking=booking, kind=Payment.Kind.CHANGE).count() == 1
    assert FlightChange.objects.filter(booking=booking).count() == 1
    assert (seats_on(old), seats_on(new)) == (0, 1)
    assert AuditEvent.objects.filter(subject_ref=booking.reference, action=Action.CHANGED).count() == 1


def test_a_declined_card_moves_nothing(customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")

    with pytest.raises(PaymentDeclined):
        change_made(booking, new, card="tok_chargeDeclined")

    booking.refresh_from_db()
    assert (booking.flight_id, booking.total_amount, fares(booking)) == (
        old.pk,
        Decimal("4500.00"),
        [Decimal("4500.00")],
    )
    assert (seats_on(old), seats_on(new)) == (1, 0)
    assert [charge.status for charge in change_charges(booking)] == [GatewayCharge.Status.DECLINED]
    assert Payment.objects.get(booking=booking, kind=Payment.Kind.CHANGE).status == Payment.Status.DECLINED
    assert FlightChange.objects.get(booking=booking).status == FlightChange.Status.FAILED
    assert not Refund.objects.exists()
    assert not Notification.objects.filter(booking=booking, kind=Kind.FLIGHT_CHANGED).exists()
    assert not AuditEvent.objects.filter(subject_ref=booking.reference, action=Action.CHANGED).exists()
    assert_inventory_clean()


def test_a_quote_whose_price_moved_is_refused_before_any_charge(customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    token = quote_of(booking, new).token
    flight_family_fares_set(flight_id=new.pk, prices={**NEW_PRICES, "ECO_SAVER": "5100.00"})

    with pytest.raises(QuoteChanged):
        change_made(booking, new, token=token)

    assert change_charges(booking) == []
    assert not FlightChange.objects.exists()
    assert (seats_on(old), seats_on(new)) == (1, 0)


def test_a_fare_that_no_longer_allows_changes_is_refused_before_any_charge(customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    token = quote_of(booking, new).token
    FareFamily.objects.filter(code="ECO_SAVER").update(change_allowed=False)
    catalogue_version_bump()

    with pytest.raises(ChangeNotAllowed):
        change_made(booking, new, token=token)

    assert change_charges(booking) == []
    assert (seats_on(old), seats_on(new)) == (1, 0)


def test_seats_gone_after_the_charge_refund_the_charge_and_move_nothing(gateway, customer, other_customer):
    # given a later flight with two business seats free and a Business Flex booking of two
    old, new = change_route({**NEW_PRICES, "BUS_FLEX": "15500.00"})
    booking = paid_in(customer, old, "BUS_FLEX", passengers(2))
    booking_hold_create(
        user=other_customer, flight_id=new.pk, passengers=passengers(6), fare_family="BUS_FLEX"
    )
    token = quote_of(booking, new).token

    # and someone taking one of those seats between the change's charge and its move
    gateway.hooks = {
        "after_charge": lambda: booking_hold_create(
            user=other_customer, flight_id=new.pk, passengers=passengers(1), fare_family="BUS_FLEX"
        )
    }
    with pytest.raises(SoldOut, match="The charge was refunded."):
        change_made(booking, new, token=token)

    # then the charge went back in full, nothing moved, and the change says why it failed
    (charge,) = change_charges(booking)
    assert (charge.amount, charge.status, charge.refunded_amount) == (
        Decimal("1000.00"),
        GatewayCharge.Status.REFUNDED,
        Decimal("1000.00"),
    )
    payment = Payment.objects.get(booking=booking, kind=Payment.Kind.CHANGE)
    assert (payment.status, payment.succeeded_for_change_id) == (Payment.Status.REFUNDED, None)
    assert list(Refund.objects.filter(payment=payment).values_list("kind", "amount")) == [
        (Refund.Kind.FINAL, Decimal("1000.00"))
    ]
    change = FlightChange.objects.get(booking=booking)
    assert change.status == FlightChange.Status.FAILED
    assert "free Business seat" in change.failure_reason
    booking.refresh_from_db()
    assert (booking.flight_id, booking.status, fares(booking)) == (
        old.pk,
        Booking.Status.CONFIRMED,
        [Decimal("15000.00")] * 2,
    )
    assert (seats_on(old), seats_on(new)) == (2, 7)
    assert booking_money_record(booking).paid == Decimal("30000.00")  # the failed change's charge is not kept
    assert not Notification.objects.filter(booking=booking, kind=Kind.FLIGHT_CHANGED).exists()
    assert_inventory_clean()


def test_a_timed_out_charge_is_resumed_by_the_retry_with_its_key_and_charged_once(gateway, customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    token = quote_of(booking, new).token
    gateway.hooks = {"after_charge": lambda: (_ for _ in ()).throw(GatewayTimeout("answer lost"))}

    with pytest.raises(PaymentGatewayTimeout):
        change_made(booking, new, key="k1", token=token)
    assert (seats_on(old), seats_on(new)) == (1, 0)
    assert Payment.objects.get(booking=booking, kind=Payment.Kind.CHANGE).status == Payment.Status.PROCESSING

    gateway.hooks = {}
    change = change_made(booking, new, key="k1", token=token)

    assert change.status == FlightChange.Status.DONE
    assert len(change_charges(booking)) == 1
    assert [call[0] for call in gateway.calls if call[1].startswith("chg_")] == ["charge", "retrieve"]
    assert (seats_on(old), seats_on(new)) == (0, 1)


def test_a_change_its_traveller_never_retried_is_finished_by_the_reconciler(gateway, customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    gateway.hooks = {"after_charge": lambda: (_ for _ in ()).throw(GatewayTimeout("answer lost"))}
    with pytest.raises(PaymentGatewayTimeout):
        change_made(booking, new)
    gateway.hooks = {}

    assert payments_reconcile_stuck(older_than_seconds=0) == 1

    assert FlightChange.objects.get(booking=booking).status == FlightChange.Status.DONE
    assert Payment.objects.get(booking=booking, kind=Payment.Kind.CHANGE).status == Payment.Status.SUCCEEDED
    assert len(change_charges(booking)) == 1
    assert (seats_on(old), seats_on(new)) == (0, 1)
    assert "We charged INR 3,500" in flight_changed_email(booking)
    assert payments_reconcile_stuck(older_than_seconds=0) == 0


def test_a_change_whose_charge_never_reached_the_gateway_is_given_up_and_nothing_moves(gateway, customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    gateway.hooks = {"before_charge": lambda: (_ for _ in ()).throw(GatewayTimeout("unreachable"))}
    with pytest.raises(PaymentGatewayTimeout):
        change_made(booking, new)
    gateway.hooks = {}

    assert payments_reconcile_stuck(older_than_seconds=0) == 1

    assert Payment.objects.get(booking=booking, kind=Payment.Kind.CHANGE).status == Payment.Status.FAILED
    assert FlightChange.objects.get(booking=booking).status == FlightChange.Status.FAILED
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    assert change_charges(booking) == []
    assert (seats_on(old), seats_on(new)) == (1, 0)


# --- a change that gives money back --------------------------------------------------------------------


def test_a_cheaper_flex_change_moves_the_seats_and_refunds_the_difference(customer):
    # given a paid Economy Flex booking of two at 6200 each, and the later flight selling it at 6000
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_FLEX", passengers(2))
    (booking_charge,) = GatewayCharge.objects.all()

    change = change_made(booking, new)

    # then nothing is charged and 400 goes back from the booking's payment, once, as a change refund
    assert (change.amount_due, change.refund_due) == (Decimal("0"), Decimal("400.00"))
    assert not Payment.objects.filter(booking=booking, kind=Payment.Kind.CHANGE).exists()
    (refund,) = Refund.objects.all()
    assert (refund.kind, refund.status, refund.amount, refund.flight_change_id) == (
        Refund.Kind.CHANGE,
        Refund.Status.SUCCEEDED,
        Decimal("400.00"),
        change.pk,
    )
    booking_charge.refresh_from_db()
    assert (booking_charge.status, booking_charge.refunded_amount) == (
        GatewayCharge.Status.REFUNDED,
        Decimal("400.00"),
    )
    assert list(GatewayRefund.objects.values_list("idempotency_key", "amount")) == [
        (f"change_{change.pk}_{refund.payment_id}", Decimal("400.00"))
    ]
    payment = Payment.objects.get(booking=booking)
    assert payment.status == Payment.Status.SUCCEEDED  # partly refunded, still the booking's
    booking.refresh_from_db()
    assert (booking.total_amount, fares(booking)) == (Decimal("12000.00"), [Decimal("6000.00")] * 2)
    assert booking_money_record(booking).net_paid == Decimal("12000.00")
    assert (seats_on(old), seats_on(new)) == (0, 2)
    assert "A refund of INR 400 is on its way to your card." in flight_changed_email(booking)
    refunded = AuditEvent.objects.get(subject_type=Subject.PAYMENT, action=Action.REFUNDED)
    assert (refunded.actor_id, refunded.detail["refund_amount"]) == (customer.pk, "400.00")
    assert_inventory_clean()


def test_a_cheaper_saver_change_pays_the_fee_and_keeps_the_difference(customer):
    old, new = change_route({**NEW_PRICES, "ECO_SAVER": "4000.00"})
    booking = paid_in(customer, old, "ECO_SAVER")

    change = change_made(booking, new)

    assert (change.amount_due, change.refund_due, change.residual_kept) == (
        Decimal("3000.00"),
        Decimal("0"),
        Decimal("500.00"),
    )
    assert not Refund.objects.exists()
    assert [charge.amount for charge in change_charges(booking)] == [Decimal("3000.00")]
    assert fares(booking) == [Decimal("4000.00")]
    email = flight_changed_email(booking)
    assert "We charged INR 3,000 to your card." in email
    assert "Not refunded INR 500" in email


def test_a_refund_whose_gateway_does_not_answer_is_made_by_the_reconciler(settings, customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_FLEX")
    settings.PAYMENT_GATEWAY = "apps.payments.tests.test_flight_changes.RefundDownGateway"

    change = change_made(booking, new)

    # the seats moved and the refund is decided, pending at the gateway
    assert change.status == FlightChange.Status.DONE
    assert list(Refund.objects.values_list("status", "amount")) == [
        (Refund.Status.PENDING, Decimal("200.00"))
    ]
    settings.PAYMENT_GATEWAY = "apps.payments.gateway.SimulatedGateway"
    assert payments_reconcile_stuck(older_than_seconds=0) == 1
    assert list(Refund.objects.values_list("status", "amount")) == [
        (Refund.Status.SUCCEEDED, Decimal("200.00"))
    ]
    assert GatewayCharge.objects.get().refunded_amount == Decimal("200.00")
    assert payments_reconcile_stuck(older_than_seconds=0) == 0


class RefundDownGateway(SimulatedGateway):
    def refund(self, **kwargs):
        raise GatewayTimeout("refund timed out")


# --- a later cancellation refunds from the new prices, never more than was paid ---------------------------


def test_cancelling_after_a_dearer_flex_change_refunds_by_the_new_price_from_both_payments(customer):
    old, new = change_route({**NEW_PRICES, "ECO_FLEX": "7000.00"})
    booking = paid_in(customer, old, "ECO_FLEX")
    change_made(booking, new)  # 800 more

    quote = booking_cancellation_quote(booking=booking, actor=customer)
    booking_cancel(booking=booking, actor=customer, expected_refund=quote.amount)

    # 7000 less the Flex's 1500 refund fee, from the change's payment first (800), then the booking's
    assert (quote.amount, quote.refundable) == (Decimal("5500.00"), Decimal("7000.00"))
    assert sorted(Refund.objects.values_list("payment__kind", "kind", "amount")) == [
        ("booking", Refund.Kind.FINAL, Decimal("4700.00")),
        ("change", Refund.Kind.FINAL, Decimal("800.00")),
    ]
    assert set(Payment.objects.filter(booking=booking).values_list("status", flat=True)) == {
        Payment.Status.REFUNDED
    }
    assert sorted(GatewayCharge.objects.values_list("amount", "refunded_amount")) == [
        (Decimal("800.00"), Decimal("800.00")),
        (Decimal("6200.00"), Decimal("4700.00")),
    ]
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    assert (seats_on(old), seats_on(new)) == (0, 0)
    assert_inventory_clean()


def test_cancelling_after_a_cheaper_flex_change_refunds_by_the_new_price_and_never_more_than_was_kept(
    customer,
):
    old, new = change_route({**NEW_PRICES, "ECO_FLEX": "5000.00"})
    booking = paid_in(customer, old, "ECO_FLEX")
    change_made(booking, new)  # 1200 back

    quote = booking_cancellation_quote(booking=booking, actor=customer)
    booking_cancel(booking=booking, actor=customer, expected_refund=quote.amount)

    # 5000 less the 1500 fee; with the change's 1200, 4700 of the 6200 paid went back
    assert (quote.amount, quote.refundable) == (Decimal("3500.00"), Decimal("5000.00"))
    assert sorted(Refund.objects.values_list("kind", "amount")) == [
        (Refund.Kind.CHANGE, Decimal("1200.00")),
        (Refund.Kind.FINAL, Decimal("3500.00")),
    ]
    assert GatewayCharge.objects.get().refunded_amount == Decimal("4700.00")
    money = booking_money_record(booking)
    assert (money.paid, money.change_refunded, money.refunded) == (
        Decimal("6200.00"),
        Decimal("1200.00"),
        Decimal("3500.00"),
    )


def test_staff_cancelling_after_a_change_refund_everything_kept_and_no_more(customer, staff_user):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_SAVER")
    change_made(booking, new)  # 3500: the difference and the fee

    booking_cancel(booking=booking, actor=staff_user)

    assert sorted(Refund.objects.values_list("amount", flat=True)) == [Decimal("3500.00"), Decimal("4500.00")]
    assert all(charge.refunded_amount == charge.amount for charge in GatewayCharge.objects.all())


def test_a_booking_whose_cancellation_began_cannot_change(customer):
    old, new = change_route()
    booking = paid_in(customer, old, "ECO_FLEX")
    token = quote_of(booking, new).token
    # a cancel that decided its refund and stopped before cancelling (its gateway down, a crash)
    from apps.payments.services.refunds import _final_refunds_reserve

    _final_refunds_reserve(booking=booking, amount=Decimal("4700.00"), actor=customer)

    with pytest.raises(BookingNotMovable, match="being cancelled"):
        change_made(booking, new, token=token)

    assert (seats_on(old), seats_on(new)) == (1, 0)
    assert Refund.objects.filter(kind=Refund.Kind.CHANGE).count() == 0


def test_a_cancellation_whose_refund_stayed_pending_is_finished_by_the_reconciler(settings, customer):
    # given a paid Flex booking whose cancel decided its refund but whose gateway did not answer
    old, _ = change_route()
    booking = paid_in(customer, old, "ECO_FLEX")
    settings.PAYMENT_GATEWAY = "apps.payments.tests.test_flight_changes.RefundDownGateway"
    with pytest.raises(RefundFailed):
        booking_cancel(booking=booking, actor=customer)
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    assert list(Refund.objects.values_list("status", "amount")) == [
        (Refund.Status.PENDING, Decimal("4700.00"))
    ]

    # when the reconciler runs with the gateway answering again
    settings.PAYMENT_GATEWAY = "apps.payments.gateway.SimulatedGateway"
    payments_reconcile_stuck(older_than_seconds=0)

    # then the refund is made once and the booking cancelled, its seat back
    assert list(Refund.objects.values_list("status", "amount")) == [
        (Refund.Status.SUCCEEDED, Decimal("4700.00"))
    ]
    assert GatewayCharge.objects.get().refunded_amount == Decimal("4700.00")
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED
    assert seats_on(old) == 0
    assert payments_reconcile_stuck(older_than_seconds=0) == 0
