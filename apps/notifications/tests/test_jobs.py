"""The outbox's guarantees with the real broker: nothing for a rollback, each committed email queued
once by the relay, nothing lost when the broker is down, and the periodic jobs (retry, reminders,
purge) safe to run twice."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.tests.factories import UserFactory
from apps.bookings import events
from apps.bookings.models import Booking
from apps.flights.models import Flight
from apps.notifications.models import Notification
from apps.notifications.relay import outbox_relay_once
from apps.notifications.services import flight_reminders_queue, notifications_purge_sent
from apps.notifications.tasks import (
    retry_due_notifications_task,
    send_flight_reminders_task,
    send_notification_task,
)
from apps.notifications.tests.support import (
    bom_del_flight,
    booked_and_paid,
    booking_make,
    broker_unreachable,
    payment_make,
    queued_notification_ids,
    receipt_of,
)
from apps.payments.models import Payment

Kind = Notification.Kind
Status = Notification.Status


class Abort(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_booking_leaves_no_email_and_queues_nothing(empty_queue):
    booking = booking_make(status=Booking.Status.HELD)
    written_inside = []

    @transaction.atomic
    def confirm_then_fail() -> None:
        Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CONFIRMED)
        events.booking_confirmed.publish(
            events.BookingConfirmed(booking=booking, receipt=receipt_of(payment_make(booking)))
        )
        written_inside.append(Notification.objects.count())
        raise Abort

    with pytest.raises(Abort):
        confirm_then_fail()

    assert written_inside == [2]
    assert Notification.objects.count() == 0
    assert outbox_relay_once() == 0
    assert queued_notification_ids() == []
    assert mail.outbox == []
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.HELD


@pytest.mark.django_db(transaction=True)
def test_the_relay_queues_each_committed_email_once(empty_queue):
    booking = booking_make(status=Booking.Status.HELD)

    with transaction.atomic():
        Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CONFIRMED)
        events.booking_confirmed.publish(
            events.BookingConfirmed(booking=booking, receipt=receipt_of(payment_make(booking)))
        )
        # nothing leaves before the commit: a relay on another connection sees no row yet
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(relay_on_own_connection).result() == 0

    ticket = Notification.objects.get(kind=Kind.BOOKING_CONFIRMED)
    receipt = Notification.objects.get(kind=Kind.PAYMENT_RECEIPT)
    with ThreadPoolExecutor(max_workers=2) as pool:  # two relays at once: each row queued by one
        queued = [future.result() for future in [pool.submit(relay_on_own_connection) for _ in range(2)]]
    assert sorted(queued) == [0, 2] or queued == [1, 1]
    assert sorted(queued_notification_ids()) == [ticket.pk, receipt.pk]
    assert outbox_relay_once() == 0
    assert queued_notification_ids() == []


def relay_on_own_connection() -> int:
    try:
        return outbox_relay_once()
    finally:
        connection.close()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_booking_and_payment_succeed_and_the_retry_job_delivers_later(
    empty_queue, caplog
):
    owner = UserFactory()

    # Given the broker is unreachable while a traveller holds seats and pays, and the relay runs,
    with broker_unreachable():
        booking = booked_and_paid(owner=owner, flight=bom_del_flight())
        with pytest.raises(Exception, match="(?i)connect|refused"):
            outbox_relay_once()

    # then the booking and the payment succeed and the three emails wait in the outbox;
    assert booking.status == Booking.Status.CONFIRMED
    assert Payment.objects.get(booking=booking).status == Payment.Status.SUCCEEDED
    emails = list(Notification.objects.order_by("pk"))
    assert [(n.kind, n.status, n.attempts) for n in emails] == [
        (Kind.BOOKING_HELD, Status.PENDING, 0),
        (Kind.BOOKING_CONFIRMED, Status.PENDING, 0),
        (Kind.PAYMENT_RECEIPT, Status.PENDING, 0),
    ]
    assert queued_notification_ids() == []

    # when the broker is back the retry job leaves them alone until their grace period ends,
    assert retry_due_notifications_task() == 0
    Notification.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    # then queues each once, and the worker (run here eagerly) sends them.
    assert retry_due_notifications_task() == 3
    queued = queued_notification_ids()
    assert queued == [n.pk for n in emails]
    for notification_id in queued:
        send_notification_task.apply(args=[notification_id])

    # (the held email is rendered by the sender: compare with the subjects stored once sent)
    subjects = Notification.objects.values_list("subject", flat=True)
    assert sorted(message.subject for message in mail.outbox) == sorted(subjects)
    assert all(subjects)
    assert {message.to[0] for message in mail.outbox} == {owner.email}
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}


@pytest.mark.django_db
def test_the_retry_job_queues_due_and_abandoned_emails_only(empty_queue):
    now = timezone.now()
    booking = booking_make()
    events.booking_confirmed.publish(
        events.BookingConfirmed(booking=booking, receipt=receipt_of(payment_make(booking)))
    )
    events.booking_cancelled.publish(
        events.BookingCancelled(booking=booking, refunded=True, by_airline=False)
    )
    events.booking_expired.publish(events.BookingExpired(booking=booking))
    ticket, receipt, cancelled, expired = Notification.objects.order_by("pk")
    Notification.objects.filter(pk=ticket.pk).update(attempts=2, next_attempt_at=now - timedelta(seconds=5))
    Notification.objects.filter(pk=receipt.pk).update(
        status=Status.SENDING, attempts=1, next_attempt_at=now - timedelta(seconds=1)
    )  # its worker died
    Notification.objects.filter(pk=cancelled.pk).update(
        attempts=1, next_attempt_at=now + timedelta(minutes=1)
    )
    Notification.objects.filter(pk=expired.pk).update(status=Status.FAILED, next_attempt_at=None, attempts=5)

    queued_count = retry_due_notifications_task()

    assert queued_count == 2
    assert sorted(queued_notification_ids()) == sorted([ticket.pk, receipt.pk])


def flight_departing_in(hours: float, **fields) -> Flight:
    return bom_del_flight(
        departure_time=timezone.now().replace(microsecond=0) + timedelta(hours=hours), **fields
    )


@pytest.mark.django_db
def test_the_reminder_job_run_twice_writes_one_reminder_per_confirmed_booking_departing_within_24_hours():
    soon = flight_departing_in(5)
    due_a = booking_make(flight=soon, passengers=(("Asha", "Rao", "1A"),))
    due_b = booking_make(flight=flight_departing_in(23.5), passengers=(("Ravi", "Iyer", "1B"),))
    booking_make(flight=flight_departing_in(30), passengers=(("Later", "Flight", "1A"),))
    booking_make(flight=soon, status=Booking.Status.HELD, passengers=(("Only", "Held", "2A"),))
    booking_make(flight=soon, status=Booking.Status.CANCELLED, passengers=(("Was", "Cancelled", "3A"),))
    booking_make(
        flight=flight_departing_in(5, status=Flight.Status.CANCELLED), passengers=(("No", "Flight", "1A"),)
    )
    booking_make(flight=flight_departing_in(-1), passengers=(("Already", "Gone", "1A"),))

    first = send_flight_reminders_task.apply().result
    second = send_flight_reminders_task.apply().result

    assert (first, second) == (2, 0)
    reminders = Notification.objects.filter(kind=Kind.FLIGHT_REMINDER)
    assert sorted(reminders.values_list("booking_id", flat=True)) == sorted([due_a.pk, due_b.pk])
    reminder = reminders.get(booking=due_a)
    assert reminder.subject.startswith(f"Reminder: {soon.flight_number} to Delhi departs ")
    assert "departs in less than 24 hours" in reminder.body_text
    assert "Gate        B7" in reminder.body_text


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_reminder_jobs_write_one_reminder_per_booking(empty_queue):
    flight = flight_departing_in(3)
    bookings = [
        booking_make(flight=flight, passengers=((f"P{index}", "Traveller", f"{index + 1}A"),))
        for index in range(6)
    ]
    racers = 4
    barrier = threading.Barrier(racers)

    def race() -> int:
        try:
            barrier.wait()
            return flight_reminders_queue()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=racers) as pool:
        written = list(pool.map(lambda _: race(), range(racers)))

    assert sum(written) == len(bookings)
    assert Notification.objects.filter(kind=Kind.FLIGHT_REMINDER).count() == len(bookings)
    assert outbox_relay_once() == len(bookings)
    assert sorted(queued_notification_ids()) == sorted(
        Notification.objects.filter(kind=Kind.FLIGHT_REMINDER).values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_purge_deletes_only_sent_emails_older_than_the_retention():
    now = timezone.now()
    booking = booking_make()
    events.booking_confirmed.publish(
        events.BookingConfirmed(booking=booking, receipt=receipt_of(payment_make(booking)))
    )
    events.booking_cancelled.publish(
        events.BookingCancelled(booking=booking, refunded=True, by_airline=False)
    )
    events.booking_expired.publish(events.BookingExpired(booking=booking))
    old_sent, recent_sent, old_failed, old_pending = Notification.objects.order_by("pk")
    Notification.objects.filter(pk=old_sent.pk).update(status=Status.SENT, sent_at=now - timedelta(days=31))
    Notification.objects.filter(pk=recent_sent.pk).update(
        status=Status.SENT, sent_at=now - timedelta(days=29)
    )
    Notification.objects.filter(pk=old_failed.pk).update(status=Status.FAILED)
    Notification.objects.filter(pk=old_pending.pk).update(created_at=now - timedelta(days=60))

    first = notifications_purge_sent()
    second = notifications_purge_sent()

    assert (first, second) == (1, 0)
    assert sorted(Notification.objects.values_list("pk", flat=True)) == sorted(
        [recent_sent.pk, old_failed.pk, old_pending.pk]
    )
