"""Domain events write outbox rows in the publisher's transaction, rendered as the airline's emails."""

import pytest
from django.core import mail
from django.db import transaction
from django.template import TemplateDoesNotExist

from apps.bookings import events
from apps.bookings.models import Booking
from apps.notifications.models import Notification
from apps.notifications.services import notification_send
from apps.notifications.tests.support import booking_make, payment_make, receipt_of

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def test_booking_held_writes_a_bare_pending_email_that_the_sender_renders_with_the_pay_by_time(
    django_capture_on_commit_callbacks,
):
    # given a hold whose pay-by time is 15:45 in Mumbai
    booking = booking_make(status=Booking.Status.HELD)
    booking.hold_expires_at = booking.flight.departure_time.replace(day=1, hour=10, minute=15)  # 15:45 IST
    booking.save()

    # when the hold is announced: the row is written without its text (the hot path renders nothing)
    with django_capture_on_commit_callbacks() as callbacks:
        events.booking_held.publish(events.BookingHeld(booking=booking))

    notification = Notification.objects.get()
    assert notification.kind == Kind.BOOKING_HELD
    assert notification.booking == booking
    assert notification.recipient == booking.owner.email
    assert notification.status == Notification.Status.PENDING
    assert notification.attempts == 0
    assert (notification.subject, notification.body_text, notification.body_html) == ("", "", "")
    # nothing else happens on the request path: the outbox relay queues the row after commit
    assert callbacks == []
    assert notification.queued_at is None

    # then sending renders it, sends the rendered text and keeps it on the row
    assert notification_send(notification_id=notification.pk) is True
    notification.refresh_from_db()
    assert "Fri 1 Mar 2030, 15:45 IST" in notification.subject
    assert booking.reference in notification.subject
    assert "Fri 1 Mar 2030, 15:45 IST" in notification.body_text
    assert "(Fri 1 Mar 2030, 10:15 UTC)" in notification.body_text
    assert "INR 9,000" in notification.body_text
    assert "Fri 1 Mar 2030, 15:45 IST" in notification.body_html
    (message,) = mail.outbox
    assert message.subject == notification.subject
    assert message.body == notification.body_text
    assert message.alternatives[0].content == notification.body_html


def test_a_held_email_that_cannot_be_rendered_is_failed_and_not_sent(monkeypatch):
    # given a bare held email whose template is broken
    booking = booking_make(status=Booking.Status.HELD)
    events.booking_held.publish(events.BookingHeld(booking=booking))
    notification = Notification.objects.get()

    def broken(*args, **kwargs):
        raise TemplateDoesNotExist("notifications/booking_held.txt")

    monkeypatch.setattr("apps.notifications.emails.render_to_string", broken)

    # when the sender runs
    sent = notification_send(notification_id=notification.pk)

    # then nothing is sent and the row records why (a permanent failure)
    assert sent is False
    assert mail.outbox == []
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED
    assert "TemplateDoesNotExist" in notification.last_error
    assert notification.subject == ""


def test_booking_confirmed_writes_the_e_ticket_and_the_receipt(django_capture_on_commit_callbacks):
    booking = booking_make()
    payment = payment_make(booking)

    with django_capture_on_commit_callbacks() as callbacks:
        events.booking_confirmed.publish(
            events.BookingConfirmed(booking=booking, receipt=receipt_of(payment))
        )

    ticket = Notification.objects.get(kind=Kind.BOOKING_CONFIRMED)
    flight_number = booking.flight.flight_number
    assert (
        ticket.subject
        == f"Your e-ticket {booking.reference}: {flight_number} Mumbai to Delhi, Tue 12 Mar 2030"
    )
    for content in (ticket.body_text, ticket.body_html):
        assert booking.reference in content
        assert booking.flight.flight_number in content
        assert "Asha Rao" in content
        assert "Vikram Rao" in content
        assert "12A" in content
        assert "12B" in content
        assert "Mumbai" in content
        assert "Delhi" in content
        assert "Tue 12 Mar 2030, 09:30 IST" in content  # departure, Mumbai local time
        assert "Tue 12 Mar 2030, 11:40 IST" in content  # arrival, Delhi local time
        assert "B7" in content  # gate
    assert "Asha Rao                         Seat 12A  Economy" in ticket.body_text
    receipt = Notification.objects.get(kind=Kind.PAYMENT_RECEIPT)
    for content in (receipt.body_text, receipt.body_html):
        assert "INR 9,000" in content
        assert payment.gateway_reference in content
        assert "Card (Visa)" in content
    assert "tok_visa" not in receipt.body_text + receipt.body_html
    assert receipt.subject == f"Payment receipt: INR 9,000 for booking {booking.reference}"
    assert callbacks == []
    assert (ticket.queued_at, receipt.queued_at) == (None, None)


def test_text_bodies_are_not_html_escaped_and_html_bodies_are():
    booking = booking_make(passengers=(("Zoë", "O'Brien & <Co>", "3C"),))

    events.booking_confirmed.publish(
        events.BookingConfirmed(booking=booking, receipt=receipt_of(payment_make(booking)))
    )

    ticket = Notification.objects.get(kind=Kind.BOOKING_CONFIRMED)
    assert "Zoë O'Brien & <Co>" in ticket.body_text
    assert "O&#x27;Brien &amp; &lt;Co&gt;" in ticket.body_html
    assert "<Co>" not in ticket.body_html


@pytest.mark.parametrize(
    ("refunded", "by_airline", "kind", "subject_end", "phrase"),
    [
        (True, False, Kind.BOOKING_CANCELLED, "cancelled, refund issued", "A refund of INR 9,000"),
        (False, False, Kind.BOOKING_CANCELLED, "cancelled", "nothing to refund"),
        (True, True, Kind.FLIGHT_CANCELLED, "is cancelled (booking", "A full refund of INR 9,000"),
        (False, True, Kind.FLIGHT_CANCELLED, "is cancelled (booking", "No payment was taken"),
    ],
)
def test_booking_cancelled_writes_the_cancellation_or_flight_cancelled_email(
    refunded, by_airline, kind, subject_end, phrase
):
    booking = booking_make()

    events.booking_cancelled.publish(
        events.BookingCancelled(booking=booking, refunded=refunded, by_airline=by_airline)
    )

    notification = Notification.objects.get()
    assert notification.kind == kind
    assert subject_end in notification.subject
    assert phrase in notification.body_text
    assert phrase.replace("INR 9,000", "<strong>INR 9,000</strong>") in notification.body_html


def test_booking_expired_writes_a_bare_hold_expired_email_rendered_when_sent():
    booking = booking_make(status=Booking.Status.EXPIRED)

    # the sweeper announces it under the flight lock: nothing is rendered there
    events.booking_expired.publish(events.BookingExpired(booking=booking))
    notification = Notification.objects.get()
    assert notification.kind == Kind.HOLD_EXPIRED
    assert (notification.subject, notification.body_text) == ("", "")

    assert notification_send(notification_id=notification.pk) is True
    notification.refresh_from_db()
    assert notification.subject == f"Your hold {booking.reference} has expired"
    assert "no payment was taken" in notification.body_text


def test_a_repeated_event_writes_nothing_and_leaves_the_callers_transaction_usable(
    django_capture_on_commit_callbacks,
):
    booking = booking_make()
    payment = payment_make(booking)
    events.booking_confirmed.publish(events.BookingConfirmed(booking=booking, receipt=receipt_of(payment)))

    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        events.booking_confirmed.publish(
            events.BookingConfirmed(booking=booking, receipt=receipt_of(payment))
        )
        Booking.objects.filter(pk=booking.pk).update(total_amount=1)

    assert Notification.objects.filter(booking=booking).count() == 2
    assert Booking.objects.get(pk=booking.pk).total_amount == 1
    assert callbacks == []


def test_writing_the_held_email_costs_one_statement_in_the_hold_transaction(django_assert_num_queries):
    # It runs while the bookings service may hold the flight row: one INSERT, no savepoint, no read
    # and no template (the sender renders it); a repeated event writes nothing more.
    booking = booking_make(status=Booking.Status.HELD)

    with django_assert_num_queries(1):
        events.booking_held.publish(events.BookingHeld(booking=booking))
    with transaction.atomic():
        with django_assert_num_queries(1):
            events.booking_held.publish(events.BookingHeld(booking=booking))
        Booking.objects.filter(pk=booking.pk).update(total_amount=2)  # the transaction is still usable

    assert Notification.objects.filter(booking=booking, kind=Kind.BOOKING_HELD).count() == 1
    assert Booking.objects.get(pk=booking.pk).total_amount == 2
