"""End to end: a booking held and paid through the services, a real Celery worker consuming from
RabbitMQ, a real SMTP server on loopback."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.bookings.models import Booking
from apps.notifications.models import Notification
from apps.notifications.tests.support import bom_del_flight, booked_and_paid, running_celery_worker

Kind = Notification.Kind
WORKER_DEADLINE_SECONDS = 60


@pytest.fixture
def celery_worker(transactional_db, smtp_server, empty_queue, tmp_path) -> Iterator[Path]:
    """A worker on this run's queue, using the test database and the loopback SMTP server."""
    _, smtp_port = smtp_server
    log_path = tmp_path / "worker.log"
    with running_celery_worker(smtp_port=smtp_port, log_path=log_path):
        yield log_path


@pytest.mark.integration
def test_a_real_worker_sends_the_e_ticket_of_a_booking_paid_through_the_services(celery_worker, smtp_server):
    server, _ = smtp_server
    owner = UserFactory(name="Asha Rao")

    booking = booked_and_paid(owner=owner, flight=bom_del_flight())

    def delivered_and_recorded() -> bool:
        # The worker records "sent" just after the SMTP server accepted the message: wait for both.
        statuses = list(Notification.objects.values_list("status", flat=True))
        return len(server.messages) >= 3 and statuses == [Notification.Status.SENT] * 3

    deadline = time.monotonic() + WORKER_DEADLINE_SECONDS
    while not delivered_and_recorded() and time.monotonic() < deadline:
        time.sleep(0.05)  # polling the SMTP server and the outbox, bounded by the deadline
    assert delivered_and_recorded(), celery_worker.read_text()[-3000:]

    assert booking.status == Booking.Status.CONFIRMED
    assert sorted(Notification.objects.values_list("kind", flat=True)) == sorted(
        [Kind.BOOKING_HELD, Kind.BOOKING_CONFIRMED, Kind.PAYMENT_RECEIPT]
    )
    assert len(server.messages) == 3
    ticket = Notification.objects.get(kind=Kind.BOOKING_CONFIRMED)
    message = next(m for m in server.messages if m["Subject"] == ticket.subject)
    assert message["To"] == owner.email
    assert message["Subject"].startswith(f"Your e-ticket {booking.reference}: ")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for content in (text, html):
        assert booking.reference in content
        assert "Asha Rao" in content
        assert "Vikram Rao" in content
        assert "12A" in content
        assert "12B" in content
        assert "Tue 12 Mar 2030, 09:30 IST" in content
    assert {m["Subject"] for m in server.messages} == set(
        Notification.objects.values_list("subject", flat=True)
    )
