from django.conf import settings
from django.db import models

from apps.bookings.models import Booking
from apps.core.models import TimeStampedModel


class Notification(TimeStampedModel):
    """The outbox: an email written in the same transaction as the change it announces."""

    class Kind(models.TextChoices):
        BOOKING_HELD = "booking_held", "Booking held"
        BOOKING_CONFIRMED = "booking_confirmed", "Booking confirmed (e-ticket)"
        PAYMENT_RECEIPT = "payment_receipt", "Payment receipt"
        BOOKING_CANCELLED = "booking_cancelled", "Booking cancelled / refunded"
        HOLD_EXPIRED = "hold_expired", "Hold expired"
        FLIGHT_REMINDER = "flight_reminder", "Flight reminder"
        FLIGHT_CANCELLED = "flight_cancelled", "Flight cancelled by the airline"
        BOARDING_PASSES = "boarding_passes", "Boarding passes"
        FLIGHT_CHANGED = "flight_changed", "Flight changed (booking moved to another flight)"
        PASSWORD_RESET = "password_reset", "Password reset link"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        # Claimed by one task run; `next_attempt_at` is then the claim's lease (a crashed run's row
        # is taken again by the retry job once the lease has passed).
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    recipient = models.EmailField()
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When a send task was last put on the broker for this row; NULL until the outbox relay (in the
    # Celery worker, apps/notifications/relay.py) has queued it.
    queued_at = models.DateTimeField(null=True, blank=True)
    booking = models.ForeignKey(
        Booking, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    # The account an e-mail is about when it is not about a booking (a password reset link).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )

    # Which flight of the booking's journey an e-mail about one flight is about (a reminder is sent
    # before each); 1 for every other e-mail.
    segment = models.PositiveSmallIntegerField(default=1, db_default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "booking", "segment"], name="notification_once_per_booking_flight"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due_idx"),
            models.Index(fields=["queued_at", "status"], name="notification_unqueued_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} ({self.status})"
