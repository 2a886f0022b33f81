from celery import shared_task
from django.utils import timezone

from apps.accounts.services import auth_sessions_purge_expired
from apps.core.periodic import periodic_job


# Daily at 03:45 UTC: delete API sessions whose refresh token has expired (none of their tokens works).
@periodic_job(
    name="purge-expired-auth-sessions",
    daily_at="03:45",
    description="Delete API sessions whose refresh token has expired.",
)
@shared_task(
    name="apps.accounts.tasks.purge_expired_auth_sessions_task",
    acks_late=True,
    time_limit=300,
    soft_time_limit=240,
)
def purge_expired_auth_sessions_task() -> int:
    """Delete API sessions whose refresh token has expired; returns how many. Safe to run twice."""
    return auth_sessions_purge_expired(now=timezone.now())
