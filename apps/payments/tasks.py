from celery import shared_task
from django.conf import settings

from apps.core.periodic import periodic_job
from apps.payments.services import payments_reconcile_stuck


# Every minute: settle payments stuck in processing past their lease by asking the gateway, refund
# charges that could not confirm their booking, finish cancels whose refund went through.
@periodic_job(
    name="reconcile-payments",
    every_seconds=60,
    description="Reconcile payments stuck in processing with the gateway.",
)
@shared_task(
    name="apps.payments.tasks.reconcile_stuck_payments_task",
    acks_late=True,
    time_limit=120,
    soft_time_limit=90,
)
def reconcile_stuck_payments_task() -> int:
    """Settle payments processing for longer than the idempotency lease; returns how many."""
    return payments_reconcile_stuck(older_than_seconds=settings.IDEMPOTENCY_LEASE_SECONDS)
