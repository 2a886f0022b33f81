"""Reads of the email outbox."""

from datetime import timedelta

from django.utils import timezone

from apps.notifications.models import Notification


def notification_claim_lease_left(*, notification_id: int) -> timedelta | None:
    """How long the send attempt holding the email's claim still holds it; None if none does."""
    lease_end = (
        Notification.objects.filter(pk=notification_id, status=Notification.Status.SENDING)
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if lease_end is None:
        return None
    left = lease_end - timezone.now()
    return left if left > timedelta(0) else None
