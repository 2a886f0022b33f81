"""Sending outbox emails: once, with backoff on transient failures, failed on permanent ones."""

import smtplib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.db import OperationalError, connection
from django.utils import timezone

from apps.bookings import events
from apps.notifications.exceptions import EmailDeliveryDeferred, NotificationInFlight
from apps.notifications.models import Notification
from apps.notifications.services import (
    is_transient,
    notification_resend,
    notification_send,
    notifications_claim_unqueued,
)
from apps.notifications.tasks import send_notification_task
from apps.notifications.tests.support import (
    booking_make,
    free_port,
    payment_make,
    receipt_of,
    running_smtp_server,
    smtp_settings,
)

Status = Notification.Status


def confirmed_ticket() -> Notification:
    booking = booking_make()
    events.booking_confirmed.publish(
        events.BookingConfirmed(booking=booking, receipt=receipt_of(payment_make(booking)))
    )
    return Notification.objects.get(kind=Notification.Kind.BOOKING_CONFIRMED)


def make_due(notification: Notification) -> None:
    """Time passes: the backoff of the last failure is over."""
    Notification.objects.filter(pk=notification.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.mark.django_db
def test_sending_delivers_text_and_html_to_the_booking_owner_and_marks_it_sent():
    ticket = confirmed_ticket()

    sent = notification_send(notification_id=ticket.pk)

    assert sent is True
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [ticket.booking.owner.email]
    assert message.from_email == "Airline <no-reply@airline.example>"
    assert message.subject == ticket.subject
    assert message.body == ticket.body_text
    assert message.alternatives[0].content == ticket.body_html
    assert message.alternatives[0].mimetype == "text/html"
    ticket.refresh_from_db()
    assert ticket.status == Status.SENT
    assert ticket.attempts == 1
    assert ticket.sent_at is not None
    assert ticket.next_attempt_at is None


@pytest.mark.django_db
def test_the_send_task_run_twice_sends_one_email():
    ticket = confirmed_ticket()

    send_notification_task.apply(args=[ticket.pk])
    send_notification_task.apply(args=[ticket.pk])

    assert len(mail.outbox) == 1
    ticket.refresh_from_db()
    assert (ticket.status, ticket.attempts) == (Status.SENT, 1)


@pytest.mark.django_db
def test_the_send_task_for_a_deleted_row_does_nothing():
    ticket = confirmed_ticket()
    Notification.objects.filter(pk=ticket.pk).delete()

    result = send_notification_task.apply(args=[ticket.pk])

    assert result.successful()
    assert result.result is False
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_row_claimed_by_a_live_attempt_is_left_alone_and_taken_over_once_its_lease_ran_out():
    ticket = confirmed_ticket()
    Notification.objects.filter(pk=ticket.pk).update(
        status=Status.SENDING, attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=4)
    )

    assert notification_send(notification_id=ticket.pk) is False
    assert mail.outbox == []

    make_due(ticket)  # the worker holding the claim died; its lease is over
    assert notification_send(notification_id=ticket.pk) is True
    assert len(mail.outbox) == 1
    ticket.refresh_from_db()
    assert (ticket.status, ticket.attempts) == (Status.SENT, 2)


@pytest.mark.django_db
def test_a_transient_smtp_failure_backs_off_exponentially_then_fails_and_a_resend_works(settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 4
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 60
    ticket = confirmed_ticket()
    delays = []

    with smtp_settings(free_port()):  # nothing listens there: connection refused
        for attempt in range(1, 4):
            before = timezone.now()
            with pytest.raises(EmailDeliveryDeferred):
                notification_send(notification_id=ticket.pk)
            ticket.refresh_from_db()
            assert (ticket.status, ticket.attempts) == (Status.PENDING, attempt)
            assert "ConnectionRefusedError" in ticket.last_error
            delays.append(round((ticket.next_attempt_at - before).total_seconds()))
            # Before the backoff is over, another run (a duplicate message) does not try again.
            assert notification_send(notification_id=ticket.pk) is False
            make_due(ticket)
        last = notification_send(notification_id=ticket.pk)

    assert delays == [60, 120, 240]
    assert last is False
    ticket.refresh_from_db()
    assert (ticket.status, ticket.attempts) == (Status.FAILED, 4)
    assert ticket.last_error.startswith("ConnectionRefusedError")
    assert ticket.next_attempt_at is None

    with running_smtp_server() as (server, port), smtp_settings(port):
        Notification.objects.update(queued_at=timezone.now())  # the relay queued both once
        notification_resend(notification=ticket)
        ticket.refresh_from_db()
        assert (ticket.status, ticket.attempts, ticket.last_error) == (Status.PENDING, 0, "")
        assert notifications_claim_unqueued() == [ticket.pk]  # the relay queues it again
        send_notification_task.apply(args=[ticket.pk])

    assert len(server.messages) == 1
    assert server.messages[0]["Subject"] == ticket.subject
    ticket.refresh_from_db()
    assert (ticket.status, ticket.attempts) == (Status.SENT, 1)


@pytest.mark.django_db
def test_a_permanent_refusal_fails_at_once_with_the_servers_reply_recorded():
    ticket = confirmed_ticket()

    with running_smtp_server(refuse="550 5.1.1 No such user here") as (server, port), smtp_settings(port):
        result = send_notification_task.apply(args=[ticket.pk])

    assert result.successful()
    assert server.messages == []
    ticket.refresh_from_db()
    assert (ticket.status, ticket.attempts) == (Status.FAILED, 1)
    assert ticket.last_error.startswith("SMTPRecipientsRefused")
    assert "No such user here" in ticket.last_error


@pytest.mark.django_db
def test_a_temporary_refusal_is_retried():
    ticket = confirmed_ticket()

    with running_smtp_server(refuse="451 4.3.0 Try again later") as (server, port), smtp_settings(port):
        result = send_notification_task.apply(args=[ticket.pk])

    # Celery retried at once (eager run) and found the row backing off, so it neither sent nor counted.
    assert result.result is False
    assert server.messages == []

    ticket.refresh_from_db()
    assert (ticket.status, ticket.attempts) == (Status.PENDING, 1)
    assert "Try again later" in ticket.last_error


@pytest.mark.django_db
def test_resend_is_refused_while_an_attempt_holds_the_claim(django_capture_on_commit_callbacks):
    ticket = confirmed_ticket()
    Notification.objects.filter(pk=ticket.pk).update(
        status=Status.SENDING, attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=4)
    )

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(NotificationInFlight):
        notification_resend(notification=ticket)

    assert callbacks == []
    ticket.refresh_from_db()
    assert (ticket.status, ticket.attempts) == (Status.SENDING, 1)


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_of_the_send_task_deliver_one_email(smtp_server, empty_queue):
    server, port = smtp_server
    ticket = confirmed_ticket()
    racers = 8
    barrier = threading.Barrier(racers)

    def race() -> bool:
        try:
            barrier.wait()
            return notification_send(notification_id=ticket.pk)
        finally:
            connection.close()

    with smtp_settings(port), ThreadPoolExecutor(max_workers=racers) as pool:
        results = list(pool.map(lambda _: race(), range(racers)))

    assert results.count(True) == 1
    assert results.count(False) == racers - 1
    assert len(server.messages) == 1
    ticket.refresh_from_db()
    assert (ticket.status, ticket.attempts) == (Status.SENT, 1)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ConnectionRefusedError(111, "Connection refused"), True),
        (TimeoutError("timed out"), True),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True),
        (smtplib.SMTPConnectError(421, b"Too busy"), True),
        (smtplib.SMTPAuthenticationError(535, b"Bad credentials"), True),
        (smtplib.SMTPRecipientsRefused({"a@example.com": (452, b"Mailbox full")}), True),
        (smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"No such user")}), False),
        (smtplib.SMTPSenderRefused(553, b"Sender rejected", "no-reply@airline.example"), False),
        (smtplib.SMTPDataError(552, b"Message too large"), False),
        (smtplib.SMTPDataError(451, b"Local error"), True),
        (SoftTimeLimitExceeded(), True),
        (OperationalError(2013, "Lost connection to server during query"), True),
        (ValueError("Header values may not contain linefeed"), False),
    ],
)
def test_only_failures_that_may_pass_later_are_transient(error, transient):
    assert is_transient(error) is transient
