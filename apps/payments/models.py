from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.bookings.models import Booking, FlightChange
from apps.core.models import TimeStampedModel


class Payment(TimeStampedModel):
    """A charge for a booking: its payment in full (kind "booking"), or what a flight change costs
    (kind "change": the fare difference and the change fee, docs/FARES.md, "Changing a flight")."""

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        DECLINED = "declined", "Declined"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"

    class Kind(models.TextChoices):
        BOOKING = "booking", "Booking"
        CHANGE = "change", "Flight change"

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.BOOKING, db_default=Kind.BOOKING)
    # A change payment's change (each attempt of one change is a payment of its own).
    flight_change = models.ForeignKey(
        FlightChange, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
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
    # The same for a change payment: set to its change when it succeeded (the seats moved), so the
    # database admits one charge kept per change. A payment with either set is "kept": money the
    # booking holds, which its cancellation refunds from (apps/payments/services/refunds.py).
    succeeded_for_change = models.OneToOneField(
        FlightChange, null=True, blank=True, on_delete=models.PROTECT, related_name="succeeded_payment"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    # When a request last took this payment to charge it: its creation, or a client's retry resuming
    # it. The reconciler gives up (no charge found) only a payment whose lease has run out, re-checked
    # under the booking's lock, which a resume holds while it renews the lease.
    leased_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind="booking", flight_change__isnull=True, succeeded_for_change__isnull=True)
                | Q(kind="change", flight_change__isnull=False, succeeded_for__isnull=True),
                name="payment_kind_matches",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="payment_status_created_idx")]
        # Refunding gives money back and cancels the booking: a right of its own, not seeing payments.
        permissions = [("refund_payment", "Can refund a payment (and cancel its booking)")]

    def __str__(self) -> str:
        return f"Payment {self.pk} {self.status} {self.amount} {self.currency}"


class Refund(TimeStampedModel):
    """Money given back from one payment. A payment has at most one FINAL refund (its booking
    cancelled, or a charge that could not be kept: the key `refund_<payment id>`, unique) and any
    number of CHANGE refunds (part of it back when its booking moved to a cheaper flight, keyed by the
    change); together never more than the payment (apps/payments/services/refunds.py checks it under
    the payment's lock).

    A cancellation's and a change's refunds are written PENDING before the gateway is asked, in the
    transaction that decides them, so two refunders of one payment never promise more than it holds;
    SUCCEEDED once the gateway refunded (a refund of 0 is written succeeded, asking nothing).
    """

    class Kind(models.TextChoices):
        FINAL = "final", "Cancelled, or charge not kept"
        CHANGE = "change", "Flight changed to a cheaper one"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending at the gateway"
        SUCCEEDED = "succeeded", "Succeeded"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.FINAL, db_default=Kind.FINAL)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.SUCCEEDED, db_default=Status.SUCCEEDED
    )
    # The key the gateway is asked with: `refund_<payment id>` (final), `change_<change id>_<payment
    # id>` (change). Unique, so each refund is written, and asked of the gateway, once.
    gateway_idempotency_key = models.CharField(max_length=64, unique=True)
    flight_change = models.ForeignKey(
        FlightChange, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    gateway_reference = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(kind="final", flight_change__isnull=True)
                | Q(kind="change", flight_change__isnull=False),
                name="refund_kind_matches",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="refund_status_created_idx")]

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
    # What its refunds gave back, summed (null until the first): all of it, or part (a fare's refund
    # rules, a flight changed to a cheaper one); each refund is a GatewayRefund.
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    def __str__(self) -> str:
        return self.reference


class GatewayRefund(models.Model):
    """The simulated gateway's refunds: one row per refund key, as a real gateway keeps them (a repeated
    refund request with the same key returns this row); a charge's refunds never add up to more than it."""

    idempotency_key = models.CharField(max_length=64, unique=True)
    charge = models.ForeignKey(GatewayCharge, on_delete=models.PROTECT, related_name="refunds")
    reference = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.reference
