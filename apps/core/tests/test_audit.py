"""The audit trail: who did what to a booking, payment or flight, when, in which request."""

import logging
import uuid

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from apps.accounts.models import STAFF_GROUP_NAME
from apps.bookings.events import booking_held
from apps.bookings.exceptions import SoldOut
from apps.bookings.models import Booking
from apps.bookings.services import booking_cancel, booking_holds_expire
from apps.bookings.tests.factories import booking_flight, cancel_flight, hold, make_overdue, passengers
from apps.core.audit import audit_record
from apps.core.logging import RequestIdFilter
from apps.core.models import AuditEvent
from apps.core.request_context import request_id_var
from apps.flights.models import Flight
from apps.payments.models import Payment
from apps.payments.services import payment_refund_for_booking, payments_reconcile_stuck
from apps.payments.tests.factories import payment_body

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action


def trail() -> list[tuple]:
    """Every audit row, oldest first, as (action, subject_type, subject_ref, actor id, request id)."""
    return list(
        AuditEvent.objects.order_by("pk").values_list(
            "action", "subject_type", "subject_ref", "actor_id", "request_id"
        )
    )


def hold_api(client, flight: Flight, *, request_id: str, count: int = 1):
    return client.post(
        "/api/v1/bookings",
        {"flight_id": flight.pk, "passengers": passengers(count)},
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        HTTP_X_REQUEST_ID=request_id,
    )


def pay_api(client, booking: Booking, *, request_id: str, token: str = "tok_visa"):
    return client.post(
        "/api/v1/payments",
        payment_body(booking, token=token),
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        HTTP_X_REQUEST_ID=request_id,
    )


def paid(client, user, flight: Flight) -> tuple[Booking, Payment]:
    booking = hold(user, flight)
    assert pay_api(client, booking, request_id="pay").status_code == 201
    booking.refresh_from_db()
    return booking, Payment.objects.get(booking=booking)


@pytest.fixture
def flight(db) -> Flight:
    return booking_flight(rows=20, business_rows=2)


@pytest.fixture
def access_log():
    """Records of the `airline.access` logger as the log handlers see them (RequestIdFilter applied)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.INFO)
    handler.emit = records.append
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("airline.access")
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(previous_level)


def test_a_record_carries_the_request_id_and_never_a_secret(customer):
    token = request_id_var.set("req-7")
    try:
        event = audit_record(
            action=Action.CREATED,
            subject_type=AuditEvent.Subject.BOOKING,
            subject_ref="ABC234",
            actor=customer,
            detail={
                "note": "charged tok_visa on 4242 4242 4242 4242",
                "password": "Hunter-22",
                "seats": ["1A"],
            },
        )
    finally:
        request_id_var.reset(token)
    outside = audit_record(
        action=Action.EXPIRED, subject_type=AuditEvent.Subject.BOOKING, subject_ref="XYZ789"
    )

    event.refresh_from_db()
    assert (event.request_id, event.actor_id, event.subject_ref) == ("req-7", customer.pk, "ABC234")
    assert event.detail == {
        "note": "charged tok_[REDACTED] on [REDACTED-PAN]",
        "password": "[REDACTED]",
        "seats": ["1A"],
    }
    assert (outside.request_id, outside.actor_id, outside.detail) == ("-", None, {})


def test_a_hold_through_the_api_is_audited_and_its_request_logs_carry_the_reference(
    customer, customer_client, flight, access_log
):
    response = hold_api(customer_client, flight, request_id="abc", count=2)

    assert response.status_code == 201
    reference = response.json()["reference"]
    assert trail() == [(Action.CREATED, "booking", reference, customer.pk, "abc")]
    event = AuditEvent.objects.get()
    seats = sorted(Booking.objects.get().seat_assignments.values_list("seat_code", flat=True))
    assert sorted(event.detail.pop("seats")) == seats
    assert event.detail == {
        "flight_id": flight.pk,
        "total_amount": response.json()["total_amount"],
        "currency": flight.currency,
    }
    (line,) = [record for record in access_log if record.getMessage() == "POST /api/v1/bookings 201"]
    assert (line.request_id, line.booking_reference, line.user_id) == ("abc", reference, customer.pk)


@pytest.mark.parametrize("strategy", ["pessimistic", "optimistic"])
def test_a_rolled_back_hold_leaves_no_audit_row(strategy, settings, customer, flight):
    # given a failure after the hold's inserts, inside its transaction
    settings.BOOKING_LOCK_STRATEGY = strategy

    def fail(event):
        raise RuntimeError("subscriber failed")

    with booking_held.subscribed(fail), pytest.raises(RuntimeError):
        hold(customer, flight)

    assert not Booking.objects.exists()
    assert trail() == []


@pytest.mark.parametrize("strategy", ["pessimistic", "optimistic"])
def test_a_sold_out_hold_is_not_audited(strategy, settings, customer, other_customer):
    settings.BOOKING_LOCK_STRATEGY = strategy
    flight = booking_flight(rows=1, letters="AB")
    first = hold(customer, flight, count=2)

    with pytest.raises(SoldOut):
        hold(other_customer, flight)

    assert trail() == [(Action.CREATED, "booking", first.reference, customer.pk, "-")]


def test_a_payment_is_audited_as_paid_by_its_payer_in_its_request(
    customer, customer_client, flight, access_log
):
    booking = hold(customer, flight)

    response = pay_api(customer_client, booking, request_id="pay-1")

    assert response.status_code == 201
    payment = Payment.objects.get()
    assert trail()[1:] == [(Action.PAID, "payment", str(payment.pk), customer.pk, "pay-1")]
    assert AuditEvent.objects.get(action=Action.PAID).detail == {
        "booking_reference": booking.reference,
        "amount": str(payment.amount),
        "currency": payment.currency,
    }
    (line,) = [record for record in access_log if record.getMessage() == "POST /api/v1/payments 201"]
    assert (line.request_id, line.booking_reference) == ("pay-1", booking.reference)


def test_a_declined_payment_is_audited_as_declined_only(customer, customer_client, flight):
    booking = hold(customer, flight)

    response = pay_api(customer_client, booking, request_id="pay-2", token="tok_chargeDeclined")

    assert response.status_code == 402
    payment = Payment.objects.get()
    assert trail()[1:] == [(Action.PAYMENT_DECLINED, "payment", str(payment.pk), customer.pk, "pay-2")]
    detail = AuditEvent.objects.get(action=Action.PAYMENT_DECLINED).detail
    assert detail["reason"] == payment.decline_reason
    assert "tok_" not in str(detail)


def test_a_payment_settled_by_the_reconciler_is_paid_by_the_system(customer, customer_client, flight):
    booking = hold(customer, flight)
    assert pay_api(customer_client, booking, request_id="pay-3", token="tok_timeout").status_code == 504

    payments_reconcile_stuck(older_than_seconds=0)

    assert trail()[1:] == [(Action.PAID, "payment", str(Payment.objects.get().pk), None, "-")]


def test_the_owner_cancelling_a_held_booking_is_audited_as_cancelled(customer, customer_client, flight):
    booking = hold(customer, flight)

    response = customer_client.post(
        f"/api/v1/bookings/{booking.reference}/cancel",
        format="json",
        HTTP_IDEMPOTENCY_KEY="cancel-1",
        HTTP_X_REQUEST_ID="cancel-1",
    )

    assert response.status_code == 200
    assert trail()[1:] == [(Action.CANCELLED, "booking", booking.reference, customer.pk, "cancel-1")]
    assert AuditEvent.objects.get(action=Action.CANCELLED).detail == {
        "previous_status": "held",
        "refunded": False,
        "by_airline": False,
    }


def test_the_owner_cancelling_a_paid_booking_is_audited_as_refunded_and_cancelled(
    customer, customer_client, flight
):
    booking, payment = paid(customer_client, customer, flight)

    booking_cancel(booking=booking, actor=customer)

    assert trail()[2:] == [
        (Action.REFUNDED, "payment", str(payment.pk), customer.pk, "-"),
        (Action.CANCELLED, "booking", booking.reference, customer.pk, "-"),
    ]
    assert AuditEvent.objects.get(action=Action.CANCELLED).detail["refunded"] is True


def test_staff_cancelling_and_refunding_in_the_admin_are_staff_actions(
    client, customer, customer_client, staff_user, flight
):
    held = hold(customer, flight)
    booking, payment = paid(customer_client, customer, flight)
    client.force_login(staff_user)

    client.post(
        reverse("admin:bookings_booking_changelist"),
        {"action": "cancel_bookings", "_selected_action": [held.pk]},
        HTTP_X_REQUEST_ID="staff-1",
    )
    client.post(
        reverse("admin:payments_payment_changelist"),
        {"action": "refund_selected", "_selected_action": [payment.pk]},
        HTTP_X_REQUEST_ID="staff-2",
    )

    assert trail()[3:] == [
        (Action.STAFF_CANCELLED, "booking", held.reference, staff_user.pk, "staff-1"),
        (Action.STAFF_REFUNDED, "payment", str(payment.pk), staff_user.pk, "staff-2"),
        (Action.STAFF_CANCELLED, "booking", booking.reference, staff_user.pk, "staff-2"),
    ]


def test_expired_holds_are_audited_once_with_no_actor(customer, other_customer, flight):
    first, second = hold(customer, flight), hold(other_customer, flight)
    make_overdue(first)
    make_overdue(second)

    booking_holds_expire()
    booking_holds_expire()

    assert trail()[2:] == [
        (Action.EXPIRED, "booking", first.reference, None, "-"),
        (Action.EXPIRED, "booking", second.reference, None, "-"),
    ]


def test_cancelling_a_flight_is_audited_once_with_each_booking_as_a_staff_action(
    customer, customer_client, staff_user, flight
):
    held = hold(customer, flight)
    booking, payment = paid(customer_client, customer, flight)

    cancel_flight(flight, staff_user)
    cancel_flight(flight, staff_user)

    assert trail()[3:] == [
        (Action.FLIGHT_CANCELLED, "flight", str(flight.pk), staff_user.pk, "-"),
        (Action.STAFF_CANCELLED, "booking", held.reference, staff_user.pk, "-"),
        (Action.STAFF_REFUNDED, "payment", str(payment.pk), staff_user.pk, "-"),
        (Action.STAFF_CANCELLED, "booking", booking.reference, staff_user.pk, "-"),
    ]
    assert (
        AuditEvent.objects.get(action=Action.FLIGHT_CANCELLED).detail["flight_number"] == flight.flight_number
    )
    assert all(
        event.detail["by_airline"] for event in AuditEvent.objects.filter(action=Action.STAFF_CANCELLED)
    )


def test_staff_see_the_trail_read_only_in_the_admin(client, customer, customer_client, staff_user, flight):
    booking, payment = paid(customer_client, customer, flight)
    other = hold(customer, flight)
    event = AuditEvent.objects.get(action=Action.PAID)
    client.force_login(staff_user)
    changelist = reverse("admin:core_auditevent_changelist")
    change = reverse("admin:core_auditevent_change", args=[event.pk])

    # a booking's reference finds its own events and its payment's, not other bookings'
    found = client.get(changelist, {"q": booking.reference})
    by_action = client.get(changelist, {"action__exact": Action.PAID})
    by_request = client.get(changelist, {"q": "pay"})
    page = client.get(change)
    changed = client.post(change, {"action": Action.CANCELLED, "subject_ref": "HACKED"})
    added = client.get(reverse("admin:core_auditevent_add"))
    deleted = client.post(reverse("admin:core_auditevent_delete", args=[event.pk]), {"post": "yes"})

    assert found.status_code == 200
    assert sorted(row.action for row in found.context["cl"].result_list) == [Action.CREATED, Action.PAID]
    assert [row.pk for row in by_action.context["cl"].result_list] == [event.pk]
    assert [row.pk for row in by_request.context["cl"].result_list] == [event.pk]
    assert other.reference not in found.content.decode()
    assert page.status_code == 200
    assert 'name="subject_ref"' not in page.content.decode()
    assert changed.status_code == 403
    assert (added.status_code, deleted.status_code) == (403, 403)
    event.refresh_from_db()
    assert (event.action, event.subject_ref) == (Action.PAID, str(payment.pk))
    assert AuditEvent.objects.count() == 3


def test_the_booking_and_payment_admin_link_to_their_trail(
    client, customer, customer_client, staff_user, flight
):
    booking, payment = paid(customer_client, customer, flight)
    client.force_login(staff_user)
    trail_url = reverse("admin:core_auditevent_changelist")

    booking_page = client.get(reverse("admin:bookings_booking_change", args=[booking.pk]))
    payment_page = client.get(reverse("admin:payments_payment_change", args=[payment.pk]))
    payment_trail = client.get(trail_url, {"subject_type__exact": "payment", "subject_ref": payment.pk})

    assert f'href="{trail_url}?q={booking.reference}"' in booking_page.content.decode()
    assert (
        f'href="{trail_url}?subject_type__exact=payment&amp;subject_ref={payment.pk}"'
        in payment_page.content.decode()
    )
    assert [row.action for row in payment_trail.context["cl"].result_list] == [Action.PAID]


def test_the_staff_group_may_view_the_trail_and_nothing_more():
    codenames = set(
        Group.objects.get(name=STAFF_GROUP_NAME)
        .permissions.filter(content_type__app_label="core", content_type__model="auditevent")
        .values_list("codename", flat=True)
    )

    assert codenames == {"view_auditevent"}


def test_a_refund_repeated_by_a_retry_is_audited_once(customer, customer_client, flight):
    booking, payment = paid(customer_client, customer, flight)

    assert payment_refund_for_booking(booking, customer) is True
    assert payment_refund_for_booking(booking, customer) is True

    assert trail()[2:] == [(Action.REFUNDED, "payment", str(payment.pk), customer.pk, "-")]
