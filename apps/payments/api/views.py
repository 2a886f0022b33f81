from decimal import Decimal

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.bookings.exceptions import BookingNotFound, BookingNotPayable, FlightNotBookable, PaymentInProgress
from apps.core.api.fields import StringField
from apps.core.api.schema import problems
from apps.core.exceptions import Busy
from apps.core.idempotency import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_PARAMETER, idempotent
from apps.core.ratelimit import RateLimited, rate_limit, user_key
from apps.payments.exceptions import AlreadyPaid, AmountMismatch, PaymentDeclined, PaymentGatewayTimeout
from apps.payments.models import Payment
from apps.payments.selectors import payment_get_for_user
from apps.payments.services import payment_create


class PaymentOutput(serializers.ModelSerializer):
    booking = serializers.CharField(source="booking.reference", read_only=True)
    kind = serializers.ChoiceField(
        choices=Payment.Kind.choices,
        read_only=True,
        help_text="booking: the booking paid in full; change: what a flight change cost (docs/API.md, "
        '"Changing a flight").',
    )
    refunded_amount = serializers.SerializerMethodField(
        help_text="What its refunds gave back, summed, decimal string: all of it, part of it under the "
        "fare's refund rules or after a change to a cheaper flight, or 0.00 (docs/API.md, cancellation "
        "quote); null while not refunded."
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "kind",
            "status",
            "amount",
            "currency",
            "booking",
            "payment_method",
            "gateway_reference",
            "decline_reason",
            "created_at",
            "processed_at",
            "refunded_amount",
        ]

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True))
    def get_refunded_amount(self, payment: Payment) -> str | None:
        amounts = [refund.amount for refund in payment.refunds.all()]  # none: not refunded
        return f"{sum(amounts, Decimal('0')):.2f}" if amounts else None


class PaymentCreateApi(APIView):
    """Pay a held booking in full. Idempotent: retry with the same Idempotency-Key, never charged twice."""

    permission_classes = [IsAuthenticated]

    class Input(serializers.Serializer):
        booking_reference = StringField(max_length=16)
        amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
        currency = serializers.RegexField(r"^[A-Za-z]{3}$", max_length=3)
        payment_method = StringField(max_length=64, help_text="A gateway card token, e.g. tok_visa.")

    @extend_schema(
        request=Input,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: PaymentOutput,
            **problems(
                PaymentDeclined,
                BookingNotFound,
                AlreadyPaid,
                BookingNotPayable,
                FlightNotBookable,
                PaymentInProgress,
                Busy,
                AmountMismatch,
                RateLimited,
                PaymentGatewayTimeout,
            ),
        },
    )
    # The limit is checked before the key is claimed, so a 429 is never stored as the answer.
    @rate_limit(group="payment", key=user_key, rate_setting="RATELIMIT_PAYMENT", fail_open=True)
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = payment_create(
            user=request.user,
            idempotency_key=request.headers[IDEMPOTENCY_HEADER],
            **serializer.validated_data,
        )
        return Response(PaymentOutput(payment).data, status=status.HTTP_201_CREATED)


class PaymentDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: PaymentOutput})
    def get(self, request: Request, payment_id: int) -> Response:
        payment = payment_get_for_user(payment_id=payment_id, user=request.user)
        return Response(PaymentOutput(payment).data)
