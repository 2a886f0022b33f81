from django.conf import settings
from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyKey(models.Model):
    """A claimed `Idempotency-Key` (Stripe's semantics; docs/API.md, "Idempotency").

    The row is inserted before any work, so the unique (owner, key) decides which of two concurrent
    requests runs. It lives in core so every app's POST endpoints can use it (core references the
    user model only through AUTH_USER_MODEL).
    """

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    route = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    lease_expires_at = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_key_unique_per_owner")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class AuditEvent(models.Model):
    """Who did what to a booking, payment or flight, when, and in which request.

    Rows are written by `apps.core.audit.audit_record` inside the transaction of the change they
    describe, so a rolled-back change leaves no row. They are never updated or deleted. `actor` is
    NULL when the system acted (the hold sweeper, the payment reconciler); it is PROTECT, like a
    booking's owner, so an audited user cannot be deleted out from under the trail. `request_id` is
    the request's id (`X-Request-ID`), "-" outside a request (Celery tasks).
    """

    class Action(models.TextChoices):
        CREATED = "created", "Booking created (held)"
        PAID = "paid", "Paid (booking confirmed)"
        PAYMENT_DECLINED = "payment_declined", "Payment declined"
        CANCELLED = "cancelled", "Cancelled by its owner"
        REFUNDED = "refunded", "Refunded"
        EXPIRED = "expired", "Hold expired"
        STAFF_CANCELLED = "staff_cancelled", "Cancelled by staff"
        STAFF_REFUNDED = "staff_refunded", "Refunded by staff"
        FLIGHT_CANCELLED = "flight_cancelled", "Flight cancelled by staff"
        REBOOKED = "rebooked", "Moved to another flight by the airline"
        CHANGED = "changed", "Moved to another flight"

    class Subject(models.TextChoices):
        BOOKING = "booking", "Booking"
        PAYMENT = "payment", "Payment"
        FLIGHT = "flight", "Flight"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject_type = models.CharField(max_length=16, choices=Subject.choices)
    subject_ref = models.CharField("subject reference", max_length=64)
    request_id = models.CharField(max_length=64)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subject_ref", "created_at"], name="audit_subject_idx"),
            models.Index(fields=["request_id"], name="audit_request_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.subject_type} {self.subject_ref}"
