"""Typed errors of the notifications app."""

from apps.core.exceptions import Conflict


class NotificationInFlight(Conflict):
    """The email is being sent right now; it cannot be reset until that attempt ends."""

    code = "notification_in_flight"
    title = "This email is being sent right now"


class EmailDeliveryDeferred(Exception):
    """A transient delivery failure (SMTP 4xx, connection refused or dropped, timeout).

    Raised by `notification_send` after the row was put back to pending with its next attempt time,
    so the Celery task retries it with backoff; the retry job is the safety net if that never runs.
    """
