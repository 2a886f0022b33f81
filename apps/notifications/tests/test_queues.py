"""A flood of e-mails does not delay a payment's reconciliation: each has its queue and its workers
(airline/queues.py; docs/SCALING.md, "Queues that scale apart"). Real Celery workers on RabbitMQ, a
real (slow) SMTP server on loopback.
"""

import asyncio
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest

from airline.queues import EMAIL, PAYMENTS
from apps.bookings.models import Booking
from apps.core.testing.broker import queue_depth
from apps.notifications.models import Notification
from apps.notifications.tests.support import (
    CollectingHandler,
    running_celery_worker,
    running_smtp_server,
    this_run_queue,
)
from apps.payments.models import GatewayCharge, Payment
from apps.payments.tasks import reconcile_stuck_payments_task
from apps.payments.tests.factories import held_booking, payment_body
from conftest import authenticated_client

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FLOOD = 200
SECONDS_PER_EMAIL = 0.1  # the SMTP server's pace: the flood takes the e-mail worker 20 s at least
DEADLINE_SECONDS = 30


class SlowHandler(CollectingHandler):
    """An SMTP server that takes SECONDS_PER_EMAIL to accept each message."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        await asyncio.sleep(SECONDS_PER_EMAIL)
        return await super().handle_DATA(server, session, envelope)


def wait_until(condition: Callable[[], bool], explain: Callable[[], str]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)  # polling the outbox, the payments or a log, bounded by the deadline
    assert condition(), explain()


def logs(tmp_path: Path) -> Callable[[], str]:
    return lambda: "\n".join(path.read_text()[-3000:] for path in sorted(tmp_path.glob("*.log")))


def test_a_flood_of_emails_does_not_delay_the_reconciliation_of_a_payment(
    transactional_db, customer, empty_queue, tmp_path
):
    # given a payment stuck in processing (the gateway charged, its answer was lost),
    booking = held_booking(owner=customer, passengers=2)
    timed_out = authenticated_client(customer).post(
        "/api/v1/payments",
        payment_body(booking, token="tok_timeout"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="stuck-payment",
    )
    assert timed_out.status_code == 504
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.PROCESSING
    with ExitStack() as stack:
        _, smtp_port = stack.enter_context(running_smtp_server(handler=SlowHandler()))
        # an e-mail worker and a payments worker, each on its own queue (payments settle at once: no lease),
        for name, queue, environment in (
            ("email", this_run_queue(EMAIL), {}),
            ("payments", this_run_queue(PAYMENTS), {"IDEMPOTENCY_LEASE_SECONDS": "0"}),
        ):
            stack.enter_context(
                running_celery_worker(
                    smtp_port=smtp_port,
                    log_path=tmp_path / f"{name}.log",
                    environment=environment,
                    name=name,
                    queues=(queue,),
                )
            )
        for name in ("email", "payments"):
            wait_until(lambda name=name: " ready." in (tmp_path / f"{name}.log").read_text(), logs(tmp_path))
        # and a flood of e-mails, queued by the workers' outbox relay, the e-mail worker busy with it,
        Notification.objects.bulk_create(
            Notification(
                kind=Notification.Kind.FLIGHT_REMINDER,
                recipient=f"traveller{n}@example.com",
                subject=f"Reminder {n}",
                body_text="Your flight leaves tomorrow.",
            )
            for n in range(FLOOD)
        )
        wait_until(
            lambda: (
                not Notification.objects.filter(queued_at__isnull=True).exists()
                and Notification.objects.filter(status=Notification.Status.SENT).exists()
            ),
            logs(tmp_path),
        )

        # when the reconciliation job is queued behind it,
        reconcile_stuck_payments_task.delay()
        wait_until(lambda: Payment.objects.get().status != Payment.Status.PROCESSING, logs(tmp_path))

        # then it ran while most of the flood still waited on its queue, unsent:
        emails_waiting = queue_depth(this_run_queue(EMAIL))
        emails_sent = Notification.objects.filter(status=Notification.Status.SENT).count()
    assert emails_waiting > FLOOD // 2
    assert emails_sent < FLOOD // 2
    # the one charge was found and recorded, and the booking confirmed.
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert GatewayCharge.objects.count() == 1
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
