from celery import shared_task
from django.utils import timezone

from apps.accounts.services import auth_sessions_purge_expired


@shared_task(
    name="apps.accounts.tasks.purge_expired_auth_sessions_task",
    acks_late=True,
    time_limit=300,
    soft_time_limit=240,
)
def purge_expired_auth_sessions_task() -> int:
    """Daily (beat): delete API sessions whose refresh token has expired. Safe to run twice."""
    return auth_sessions_purge_expired(now=timezone.now())
