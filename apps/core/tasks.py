from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from apps.core.idempotency import purge_idempotency_keys
from apps.core.periodic import periodic_job


# Daily at 03:30 UTC: delete idempotency keys older than IDEMPOTENCY_RETENTION_HOURS (24 h).
@periodic_job(
    name="purge-idempotency-keys",
    daily_at="03:30",
    description="Delete idempotency keys older than 24 hours.",
)
@shared_task(
    name="apps.core.tasks.purge_idempotency_keys_task", acks_late=True, time_limit=300, soft_time_limit=240
)
def purge_idempotency_keys_task() -> int:
    """Delete idempotency keys older than IDEMPOTENCY_RETENTION_HOURS. Safe to run twice."""
    older_than = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS)
    return purge_idempotency_keys(older_than=older_than)
