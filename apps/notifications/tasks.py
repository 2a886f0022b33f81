"""Thin Celery tasks: take ids, call one service. Periodic ones are scheduled in schedule.py."""

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from apps.notifications.exceptions import EmailDeliveryDeferred
from apps.notifications.selectors import notification_claim_lease_left
from apps.notifications.services import (
    flight_reminders_queue,
    notification_send,
    notifications_purge_sent,
    notifications_retry_due,
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


@shared_task(
    name="apps.notifications.tasks.retry_due_notifications_task",
    acks_late=True,
    soft_time_limit=50,
    time_limit=60,
)
def retry_due_notifications_task() -> int:
    """Every minute (beat): queue emails that are due again."""
    return notifications_retry_due()


@shared_task(
    name="apps.notifications.tasks.send_flight_reminders_task",
    acks_late=True,
    soft_time_limit=240,
    time_limit=300,
)
def send_flight_reminders_task() -> int:
    """Every 15 minutes (beat): one reminder per confirmed booking departing within 24 hours."""
    return flight_reminders_queue()


@shared_task(
    name="apps.notifications.tasks.purge_sent_notifications_task",
    acks_late=True,
    soft_time_limit=240,
    time_limit=300,
)
def purge_sent_notifications_task() -> int:
    """Daily (beat): delete sent emails older than NOTIFICATIONS_RETENTION_DAYS."""
    return notifications_purge_sent()
