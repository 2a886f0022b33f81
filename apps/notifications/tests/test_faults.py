"""A worker killed while sending an email: real Celery workers on RabbitMQ, a real SMTP server.

(The index of every fault test is in apps/bookings/tests/test_faults.py.)

What the outbox guarantees across such a crash (apps/notifications/services.py): the email is never
lost and its row ends `sent` once. The send task is `acks_late`, so the killed worker's message goes
back to the queue (RabbitMQ requeues a consumer's unacknowledged messages when its connection
drops) and another worker receives it, flagged redelivered. That run finds the dead run's claim,
waits for its lease to end (NOTIFICATIONS_CLAIM_LEASE_SECONDS, short here), then sends.

Delivery is exactly once when the worker dies before the SMTP server accepted the message: an RFC
5321 server takes responsibility for a message only when it answers 250 to its data, and a session
that vanishes first delivers nothing. It is at least once when the worker dies after the server
accepted the message and before the row records it: the traveller gets the email twice, the row
says sent once. No protocol between an SMTP server and a database closes that window.
"""

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from subprocess import Popen

import pytest
from django.db import transaction

from apps.bookings.models import Booking
from apps.core.testing.database import session_kill, session_waiting
from apps.notifications.models import Notification
from apps.notifications.services import notifications_create
from apps.notifications.tests.support import (
    CollectingHandler,
    booking_make,
    running_celery_worker,
    running_smtp_server,
)

Status = Notification.Status
DEADLINE_SECONDS = 30
SHORT_LEASE = {"NOTIFICATIONS_CLAIM_LEASE_SECONDS": "2"}
RECEIVED = "Task apps.notifications.tasks.send_notification_task["


class StallingHandler(CollectingHandler):
    """An SMTP server that, given the first message's data, answers only once `answer_first` is set
    (never, if None); the messages it answered 250 to are `messages`."""

    def __init__(self, answer_first: threading.Event | None = None):
        super().__init__()
        self.answer_first = answer_first
        self.first_data_received = threading.Event()
        self.abandoned = 0  # data whose sender vanished before the answer: not accepted

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if not self.first_data_received.is_set():
            self.first_data_received.set()
            loop = asyncio.get_running_loop()
            try:
                if self.answer_first is None:
                    await loop.create_future()  # aiosmtpd cancels this when the client disconnects
                else:
                    await loop.run_in_executor(None, self.answer_first.wait, DEADLINE_SECONDS)
            except asyncio.CancelledError:
                self.abandoned += 1
                raise
        return await super().handle_DATA(server, session, envelope)


def wait_until(condition: Callable[[], bool], explain: Callable[[], str]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)  # polling a log, the SMTP server or the outbox, bounded by the deadline
    assert condition(), explain()


@contextmanager
def two_ready_workers(smtp_port: int, tmp_path: Path) -> Iterator[dict[Path, Popen]]:
    """Two workers with a short claim lease, both consuming before the test queues anything, so the
    survivor receives the killed one's message at once, while the dead run's claim still holds."""
    with ExitStack() as stack:
        workers = {}
        for name in ("first", "second"):
            log_path = tmp_path / f"{name}.log"
            workers[log_path] = stack.enter_context(
                running_celery_worker(
                    smtp_port=smtp_port, log_path=log_path, environment=SHORT_LEASE, name=name
                )
            )
        for log_path in workers:
            wait_until(lambda log_path=log_path: " ready." in log_path.read_text(), log_path.read_text)
        yield workers


def the_worker_sending(workers: dict[Path, Popen]) -> Popen:
    (sending,) = [worker for log_path, worker in workers.items() if RECEIVED in log_path.read_text()]
    return sending


def logs(tmp_path: Path) -> Callable[[], str]:
    return lambda: "\n".join(path.read_text()[-3000:] for path in sorted(tmp_path.glob("*.log")))


def queued_email() -> Notification:
    """A hold's email, written in a committed transaction, so its send task is queued on commit."""
    booking = booking_make(status=Booking.Status.HELD)
    with transaction.atomic():
        notifications_create(booking=booking, kinds=[Notification.Kind.BOOKING_HELD])
    return Notification.objects.get()


@pytest.mark.integration
@pytest.mark.slow
def test_a_worker_killed_before_the_smtp_server_accepted_the_email_is_redelivered_and_it_is_sent_once(
    transactional_db, empty_queue, tmp_path
):
    handler = StallingHandler(answer_first=None)
    with (
        running_smtp_server(handler=handler) as (_, smtp_port),
        two_ready_workers(smtp_port, tmp_path) as workers,
    ):
        # given an email being sent by one worker, the SMTP server holding its data unanswered,
        email = queued_email()
        wait_until(handler.first_data_received.is_set, logs(tmp_path))
        # when that worker is killed,
        killed = the_worker_sending(workers)
        killed.kill()
        killed.wait()
        # then the other worker receives the message again and, once the claim's lease is over, sends it
        wait_until(
            lambda: Notification.objects.get(pk=email.pk).status == Status.SENT and handler.messages,
            logs(tmp_path),
        )

    assert handler.abandoned == 1
    assert len(handler.messages) == 1
    assert handler.messages[0]["Subject"] == Notification.objects.get(pk=email.pk).subject
    assert handler.messages[0]["To"] == email.recipient
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (Status.SENT, 2, "")
    assert email.sent_at is not None


@pytest.mark.integration
@pytest.mark.slow
def test_a_worker_killed_after_the_smtp_server_accepted_the_email_sends_it_again_and_records_it_once(
    transactional_db, empty_queue, tmp_path
):
    answer = threading.Event()
    handler = StallingHandler(answer_first=answer)
    with (
        running_smtp_server(handler=handler) as (_, smtp_port),
        two_ready_workers(smtp_port, tmp_path) as workers,
    ):
        # given an email the SMTP server has accepted, its worker not yet able to record that
        email = queued_email()
        wait_until(handler.first_data_received.is_set, logs(tmp_path))
        with transaction.atomic():
            Notification.objects.select_for_update().get(pk=email.pk)
            answer.set()
            recording = session_waiting(
                [f"UPDATE `{Notification._meta.db_table}`%"], deadline_seconds=DEADLINE_SECONDS
            )
            # when that worker is killed (and its database session ends with it)
            killed = the_worker_sending(workers)
            killed.kill()
            killed.wait()
            session_kill(recording)
        # then the other worker receives the message again and sends the email a second time
        wait_until(lambda: len(handler.messages) == 2, logs(tmp_path))
        wait_until(lambda: Notification.objects.get(pk=email.pk).status == Status.SENT, logs(tmp_path))

    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.SENT, 2)
    assert handler.abandoned == 0
    assert [message["Subject"] for message in handler.messages] == [email.subject] * 2
    assert len({message["X-Airline-Notification"] for message in handler.messages}) == 1
