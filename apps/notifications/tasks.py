"""Thin Celery tasks of the outbox: take ids, call one service. Periodic ones say when they run."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from apps.core.periodic import periodic_job
from apps.notifications.exceptions import EmailDeliveryDeferred
from apps.notifications.selectors import notification_claim_lease_left
from apps.notifications.services import (
    flight_reminders_queue,
    notification_send,
    notifications_claim_due,
    notifications_purge_sent,
)

# Only transient failures are retried: the SMTP server or the database was unreachable. The backoff
# matches services.retry_delay (base × 2^n, no jitter), so a retry finds its row due; the retry job
# queues whatever is still due if Celery gives up or the message is lost.
TRANSIENT_ERRORS = (EmailDeliveryDeferred, OperationalError, InterfaceError)
# A redelivered send waits this long past the dead run's lease, so its claim has surely run out.
CLAIM_TAKEOVER_MARGIN_SECONDS = 1


@shared_task(
    bind=True,
    name="apps.notifications.tasks.send_notification_task",
    acks_late=True,
    soft_time_limit=30,
    time_limit=45,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=settings.NOTIFICATIONS_RETRY_BASE_SECONDS,
    retry_backoff_max=24 * 3600,
    retry_jitter=False,
    max_retries=settings.NOTIFICATIONS_MAX_ATTEMPTS - 1,
)
def send_notification_task(self, notification_id: int) -> bool:
    """Send one outbox email; safe to run twice (the row is claimed once).

    A redelivered message (its worker died while sending, so acks_late and RabbitMQ put it back)
    finds the dead run's claim still live: it is retried just after the claim's lease ends, and
    sends then, rather than leaving the email to the retry job.
    """
    sent = notification_send(notification_id=notification_id)
    if not sent and (self.request.delivery_info or {}).get("redelivered"):
        lease_left = notification_claim_lease_left(notification_id=notification_id)
        if lease_left is not None:
            raise self.retry(countdown=lease_left.total_seconds() + CLAIM_TAKEOVER_MARGIN_SECONDS)
    return sent


# Every minute: queue emails due again (a transient failure's backoff is over, a first task was lost,
# or a crashed worker's claim ran out).
@periodic_job(
    name="retry-notifications",
    every_seconds=60,
    description="Queue pending emails whose next attempt is due.",
)
@shared_task(
    name="apps.notifications.tasks.retry_due_notifications_task",
    acks_late=True,
    soft_time_limit=50,
    time_limit=60,
)
def retry_due_notifications_task() -> int:
    """Queue a send task for each email due again; returns how many."""
    due = notifications_claim_due()
    for notification_id in due:
        send_notification_task.delay(notification_id)
    return len(due)


# Every 15 minutes: one reminder per confirmed booking departing in the next 24 hours.
@periodic_job(
    name="flight-reminders", every_seconds=15 * 60, description="Email a reminder 24 hours before departure."
)
@shared_task(
    name="apps.notifications.tasks.send_flight_reminders_task",
    acks_late=True,
    soft_time_limit=240,
    time_limit=300,
)
def send_flight_reminders_task() -> int:
    return flight_reminders_queue()


# Daily at 03:00 UTC (low traffic): delete sent emails older than NOTIFICATIONS_RETENTION_DAYS.
@periodic_job(
    name="purge-sent-notifications",
    daily_at="03:00",
    description="Delete sent emails older than the retention period (30 days).",
)
@shared_task(
    name="apps.notifications.tasks.purge_sent_notifications_task",
    acks_late=True,
    soft_time_limit=240,
    time_limit=300,
)
def purge_sent_notifications_task() -> int:
    return notifications_purge_sent()
