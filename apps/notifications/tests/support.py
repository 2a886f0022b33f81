"""Helpers of the notifications tests: bookings built with the ORM, a real SMTP server, the broker."""

import email
import email.policy
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from kombu import Connection

from airline.celery import app as celery_app
from airline.queues import EMAIL, queue_name
from apps.accounts.tests.factories import UserFactory
from apps.bookings.events import PaymentReceipt
from apps.bookings.models import Booking, Passenger, SeatAssignment
from apps.core.testing.broker import this_run_queue_names
from apps.flights.models import Cabin, Flight
from apps.flights.seating import airplane_positions
from apps.flights.services.seats import flight_seats_take
from apps.flights.tests.factories import FlightFactory, delhi_airport, mumbai_airport
from apps.payments.models import Payment

_references = itertools.count(1)
# Mumbai 09:30 IST = 04:00 UTC; Delhi arrival 11:40 IST.
DEPARTURE = datetime(2030, 3, 12, 4, 0, tzinfo=UTC)


def bom_del_flight(*, departure_time: datetime = DEPARTURE, **fields) -> Flight:
    mumbai = mumbai_airport()
    delhi = delhi_airport()
    return FlightFactory(
        departure_airport=mumbai,
        arrival_airport=delhi,
        departure_time=departure_time,
        arrival_time=departure_time + timedelta(hours=2, minutes=10),
        gate="B7",
        **fields,
    )


def booking_make(
    *,
    owner=None,
    flight: Flight | None = None,
    status: str = Booking.Status.CONFIRMED,
    passengers: tuple[tuple[str, str, str], ...] = (("Asha", "Rao", "12A"), ("Vikram", "Rao", "12B")),
    hold_expires_at: datetime | None = None,
) -> Booking:
    """A booking as the bookings services leave it: passengers each with an active seat."""
    flight = flight or bom_del_flight()
    owner = owner or UserFactory(name="Asha Rao")
    booking = Booking.objects.create(
        reference=f"N{next(_references):05d}".replace("0", "X").replace("1", "Y"),
        owner=owner,
        flight=flight,
        status=status,
        total_amount=flight.base_fare * len(passengers),
        currency=flight.currency,
        hold_expires_at=hold_expires_at or timezone.now() + timedelta(minutes=10),
        confirmed_at=timezone.now() if status == Booking.Status.CONFIRMED else None,
    )
    for position, (first_name, last_name, seat_code) in enumerate(passengers, start=1):
        passenger = Passenger.objects.create(
            booking=booking, position=position, first_name=first_name, last_name=last_name
        )
        SeatAssignment.objects.create(
            flight=flight,
            booking=booking,
            passenger=passenger,
            seat_code=seat_code,
            cabin=Cabin.ECONOMY,
            fare=flight.base_fare,
        )
    flight.refresh_from_db()
    positions = airplane_positions(flight.airplane_id)
    flight_seats_take(flight=flight, positions=[positions[seat] for _, _, seat in passengers])
    return booking


def payment_make(booking: Booking) -> Payment:
    return Payment.objects.create(
        booking=booking,
        owner=booking.owner,
        amount=booking.total_amount,
        currency=booking.currency,
        status=Payment.Status.SUCCEEDED,
        payment_method="tok_visa",
        gateway_idempotency_key=f"pay-{booking.reference}",
        gateway_reference=f"ch_sim_{booking.reference}",
        succeeded_for=booking,
        processed_at=timezone.now(),
    )


def receipt_of(payment: Payment) -> PaymentReceipt:
    """The receipt the payments app publishes with `booking_confirmed` for `payment`."""
    return PaymentReceipt(
        amount=payment.amount,
        currency=payment.currency,
        gateway_reference=payment.gateway_reference,
        payment_method=payment.payment_method,
        paid_at=payment.processed_at or payment.created_at,
    )


class CollectingHandler:
    """An SMTP server's handler that keeps every message, or refuses recipients with `refuse`."""

    def __init__(self, refuse: str | None = None):
        self.refuse = refuse
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def smtp_settings(port: int):
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_USE_TLS=False,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_TIMEOUT=2,
    )


@contextmanager
def running_smtp_server(
    refuse: str | None = None, handler: CollectingHandler | None = None
) -> Iterator[tuple[CollectingHandler, int]]:
    """A real SMTP server on loopback; yields (handler, port). `refuse` is its reply to RCPT TO;
    `handler` replaces the plain collecting one."""
    handler = handler or CollectingHandler(refuse=refuse)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


CELERY = Path(sys.executable).with_name("celery")


@contextmanager
def running_celery_worker(
    *,
    smtp_port: int,
    log_path: Path,
    environment: dict[str, str] | None = None,
    name: str = "worker",
    queues: tuple[str, ...] | None = None,
) -> Iterator[subprocess.Popen]:
    """A real Celery worker (solo pool, node `name`) consuming this run's `queues` (all of them unless
    named: the default, e-mail, payments and housekeeping queues of airline/queues.py), on the test
    database, sending to the loopback SMTP server at `smtp_port`, its output in `log_path`;
    `environment` adds settings.

    Stopped on exit (SIGTERM, then SIGKILL), unless the test killed it already.
    """
    database = connection.settings_dict
    worker_environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "apps.notifications.tests.worker_settings",
        "DATABASE_URL": f"mysql://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
        f"{database['PORT'] or 3306}/{database['NAME']}",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        **(environment or {}),
    }
    with log_path.open("a") as log:
        worker = subprocess.Popen(
            # Heartbeat and gossip stay on: their timers wake the event loop, so the worker acts on
            # SIGTERM within about two seconds (without them it sleeps ten seconds before noticing).
            [str(CELERY), "-A", "airline", "worker", "-Q", ",".join(queues or this_run_queue_names())]
            + ["--pool=solo", "-l", "info", "--without-mingle", "-n", f"{name}@%h"],
            cwd=settings.BASE_DIR,
            env=worker_environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield worker
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


@contextmanager
def broker_unreachable() -> Iterator[None]:
    """Point this process's Celery producer at a closed port, failing fast; restore afterwards.

    Celery reads the broker URL from the environment before its configuration, so both change.
    """
    closed_port_url = "amqp://guest:guest@127.0.0.1:1//"
    fail_fast = {
        "CELERY_BROKER_URL": closed_port_url,
        "CELERY_BROKER_CONNECTION_TIMEOUT": 0.5,
        "CELERY_BROKER_CONNECTION_MAX_RETRIES": 1,
        "CELERY_TASK_PUBLISH_RETRY_POLICY": {"max_retries": 1, "interval_start": 0, "interval_step": 0.1},
    }
    saved_conf = {key: celery_app.conf.get(key) for key in fail_fast}
    saved_env = os.environ.get("CELERY_BROKER_URL")

    def reset_pools() -> None:
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    os.environ["CELERY_BROKER_URL"] = closed_port_url
    celery_app.conf.update(fail_fast)
    reset_pools()
    try:
        yield
    finally:
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL")
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        celery_app.conf.update(saved_conf)
        reset_pools()


def this_run_queue(kind: str) -> str:
    """This run's queue of `kind` (airline/queues.py: EMAIL, PAYMENTS or HOUSEKEEPING)."""
    return queue_name(settings.CELERY_TASK_DEFAULT_QUEUE, kind)


def queued_notification_ids() -> list[int]:
    """Take every message off this run's e-mail queue; the notification ids of the send tasks, in order."""
    ids: list[int] = []
    with Connection(settings.CELERY_BROKER_URL) as connection:
        channel = connection.default_channel
        while (message := channel.basic_get(this_run_queue(EMAIL), no_ack=True)) is not None:
            if message.headers["task"] == "apps.notifications.tasks.send_notification_task":
                args, _kwargs, _embed = json.loads(message.body)
                ids.append(args[0])
    return ids


def booked_and_paid(*, owner, flight: Flight, idempotency_key: str = "notify-pay-1") -> Booking:
    """A real booking: held for two passengers on 12A and 12B, then paid, through the services."""
    from apps.bookings.services import booking_hold_create
    from apps.payments.services import payment_create

    booking = booking_hold_create(
        user=owner,
        flight_id=flight.pk,
        passengers=[{"first_name": "Asha", "last_name": "Rao"}, {"first_name": "Vikram", "last_name": "Rao"}],
        seats=["12A", "12B"],
    )
    payment_create(
        user=owner,
        booking_reference=booking.reference,
        amount=booking.total_amount,
        currency=booking.currency,
        payment_method="tok_visa",
        idempotency_key=idempotency_key,
    )
    booking.refresh_from_db()
    return booking
