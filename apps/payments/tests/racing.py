"""Tools of the payment races: a gateway that stops where the test says, gates, threads, outbox and audit.

A race is made deterministic by stopping one side at a named point (a gateway call, an event
published inside a transaction) until the other side has been seen waiting on a row lock
(`apps/core/testing/database.py: session_waiting`) or has finished: never by sleeping.
"""

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from django.db import connection

from apps.core.models import AuditEvent
from apps.notifications.models import Notification
from apps.payments.gateway import GatewayTimeout, SimulatedGateway

WAIT_SECONDS = 10

# What a thread waiting for a row lock runs: MariaDB shows the statement in its process list.
FLIGHT_LOCK_WAIT = ["%flights_flight%FOR UPDATE%"]
BOOKING_LOCK_WAIT = ["%bookings_booking%FOR UPDATE%"]
PAYMENT_LOCK_WAIT = ["%payments_payment%FOR UPDATE%"]


class Gate:
    """A point where a thread stops until the test opens the gate; `reached` is set when one arrives.

    `once`: only the first thread to arrive stops, later ones pass (a retry's own lookup, after the
    reconciler's was stopped).
    """

    def __init__(self, *, once: bool = False) -> None:
        self.reached = threading.Event()
        self.opened = threading.Event()
        self._once = once
        self._taken = threading.Lock()

    def __call__(self, *args: Any) -> None:
        if self._once and not self._taken.acquire(blocking=False):
            return
        self.reached.set()
        if not self.opened.wait(timeout=WAIT_SECONDS):
            raise AssertionError("the test never opened the gate")

    def wait_reached(self) -> None:
        assert self.reached.wait(timeout=WAIT_SECONDS), "no thread reached the gate"

    def open(self) -> None:
        self.opened.set()


class HookedGateway(SimulatedGateway):
    """The simulated gateway, calling the test's hooks (in the caller's thread) around its calls.

    Hooks by name: "before_charge", "after_charge" (the charge is in the ledger, its answer not yet
    returned), "after_retrieve", "before_refund". Every call is recorded in `calls` as (name, key).
    """

    hooks: dict[str, Callable[[], None]] = {}
    calls: list[tuple[str, str]] = []

    def charge(self, **kwargs):
        self._record("charge", kwargs["idempotency_key"])
        self._hook("before_charge")
        result = super().charge(**kwargs)
        self._hook("after_charge")
        return result

    def retrieve(self, idempotency_key):
        self._record("retrieve", idempotency_key)
        result = super().retrieve(idempotency_key)
        self._hook("after_retrieve")
        return result

    def refund(self, **kwargs):
        self._record("refund", kwargs["idempotency_key"])
        self._hook("before_refund")
        return super().refund(**kwargs)

    def _record(self, name: str, key: str) -> None:
        type(self).calls.append((name, key))

    def _hook(self, name: str) -> None:
        hook = type(self).hooks.get(name)
        if hook is not None:
            hook()


def unreachable() -> None:
    """A charge request that never reached the gateway: it times out and nothing is charged."""
    raise GatewayTimeout("connection timed out")


@contextmanager
def threads(workers: int) -> Iterator[Callable[..., Future]]:
    """`start(func, *args)` runs func on its own thread and database connection; returns its future."""

    def run(func: Callable[..., Any], *args: Any) -> Any:
        try:
            return func(*args)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield lambda func, *args: pool.submit(run, func, *args)


def outbox(booking_id: int) -> Counter:
    """The e-mails written for a booking, counted by kind."""
    return Counter(Notification.objects.filter(booking_id=booking_id).values_list("kind", flat=True))


def audit(subject_type: str, *subject_refs: object) -> Counter:
    """The audit rows of these subjects (of one type), counted by (action, actor id)."""
    return Counter(
        AuditEvent.objects.filter(
            subject_type=subject_type, subject_ref__in=[str(ref) for ref in subject_refs]
        ).values_list("action", "actor_id")
    )
