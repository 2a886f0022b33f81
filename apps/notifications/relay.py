"""The outbox relay: a thread in every Celery worker that queues the send tasks of new outbox rows.

Requests write outbox rows and return (no broker round trip on the request path); about every
RELAY_INTERVAL_SECONDS the relay claims the rows no task was queued for yet
(`notifications_claim_unqueued`) and queues one send task per row. Several workers run several
relays: each row is claimed by one. Nothing is lost if the relay stops: the retry job queues rows
whose first task never came.

It runs as a Celery bootstep (registered in airline/celery.py), so wherever a worker runs (`make
run`, compose, the tests' real workers) the relay runs too; a worker started with
OUTBOX_RELAY=false runs none.
"""

import logging
import os
import threading

from celery import bootsteps
from django.db import close_old_connections

logger = logging.getLogger(__name__)

RELAY_INTERVAL_SECONDS = 0.5
RELAY_BATCH = 500


def outbox_relay_once(*, limit: int = RELAY_BATCH) -> int:
    """Claim the new outbox rows and queue a send task for each; returns how many were queued."""
    from apps.notifications.services import notifications_claim_unqueued
    from apps.notifications.tasks import send_notification_task

    ids = notifications_claim_unqueued(limit=limit)
    for notification_id in ids:
        send_notification_task.delay(notification_id)
    return len(ids)


class OutboxRelay(bootsteps.StartStopStep):
    """Runs `outbox_relay_once` in a daemon thread while the worker runs."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, parent, **options) -> None:
        super().__init__(parent, **options)
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def include_if(self, parent) -> bool:
        return os.environ.get("OUTBOX_RELAY", "true").lower() not in ("0", "false", "no")

    def start(self, parent) -> None:
        self.stopping.clear()
        self.thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self.thread.start()

    def stop(self, parent) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=5)

    terminate = stop

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                close_old_connections()
                queued = outbox_relay_once()
            except Exception:  # a database or broker hiccup: log it and try again next round
                logger.exception("The outbox relay failed; retrying")
                queued = 0
            if queued < RELAY_BATCH:  # a full batch means more are waiting: no pause
                self.stopping.wait(RELAY_INTERVAL_SECONDS)
