from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.bookings.models import Booking
from apps.core.models import TimeStampedModel


class Payment(TimeStampedModel):
    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        DECLINED = "declined", "Declined"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="payments")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROCESSING)
    payment_method = models.CharField(max_length=64, help_text="The gateway token, e.g. tok_visa.")
    # The client's Idempotency-Key: a retry with it after a gateway timeout resumes this payment.
    idempotency_key = models.CharField(max_length=255, blank=True)
    # The key we send the gateway, so its retries and our reconciliation find the one charge.
    gateway_idempotency_key = models.CharField(max_length=64, unique=True)
    gateway_reference = models.CharField(max_length=64, blank=True)
    decline_reason = models.CharField(max_length=255, blank=True)
    # Set to the booking only when the payment succeeds: MySQL has no partial unique index, so this
    # nullable unique column is what lets the database refuse a second succeeded payment.
    succeeded_for = models.OneToOneField(
        Booking, null=True, blank=True, on_delete=models.PROTECT, related_name="succeeded_payment"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    # When a request last took this payment to charge it: its creation, or a client's retry resuming
    # it. The reconciler gives up (no charge found) only a payment whose lease has run out, re-checked
    # under the booking's lock, which a resume holds while it renews the lease.
    leased_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive")]
        indexes = [models.Index(fields=["status", "created_at"], name="payment_status_created_idx")]
        # Refunding gives money back and cancels the booking: a right of its own, not seeing payments.
        permissions = [("refund_payment", "Can refund a payment (and cancel its booking)")]

    def __str__(self) -> str:
        return f"Payment {self.pk} {self.status} {self.amount} {self.currency}"


class Refund(TimeStampedModel):
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="refund")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    gateway_reference = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"Refund of payment {self.payment_id}"


class GatewayCharge(models.Model):
    """The simulated gateway's own ledger (the outside world, simulated): one row per charge.

    Unique on the idempotency key we send, as a real gateway is: a repeated charge request with the
    same key returns this row instead of charging again. Tests assert on it as "the charge log".
    """

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        DECLINED = "declined", "Declined"
        REFUNDED = "refunded", "Refunded"

    idempotency_key = models.CharField(max_length=64, unique=True)
    reference = models.CharField(max_length=64, unique=True)
    token = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=12, choices=Status.choices)
    decline_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    # What the one refund of this charge gave back: all of it, or part under a fare's refund rules.
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    def __str__(self) -> str:
        return self.reference
