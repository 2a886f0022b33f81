from celery import shared_task
from django.conf import settings

from apps.payments.services import payments_reconcile_stuck


@shared_task(
    name="apps.payments.tasks.reconcile_stuck_payments_task",
    acks_late=True,
    time_limit=120,
    soft_time_limit=90,
)
def reconcile_stuck_payments_task() -> int:
    """Every minute (beat): settle payments processing for longer than the idempotency lease."""
    return payments_reconcile_stuck(older_than_seconds=settings.IDEMPOTENCY_LEASE_SECONDS)
