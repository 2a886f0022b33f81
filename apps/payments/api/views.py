from decimal import Decimal
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.bookings.api.examples import CHANGE_QUOTE
from apps.bookings.api.serializers import BookingOutput, booking_body
from apps.bookings.exceptions import (
    BookingNotFound,
    BookingNotMovable,
    BookingNotPayable,
    ChangeNotAllowed,
    FlightNotBookable,
    MoveConnectionBroken,
    MoveRouteMismatch,
    PaymentInProgress,
    QuoteChanged,
    QuoteInvalid,
    SoldOut,
)
from apps.bookings.models import Booking, FlightChange
from apps.bookings.selectors import booking_get, booking_get_owned
from apps.core.api.fields import StringField
from apps.core.api.schema import problems
from apps.core.exceptions import Busy
from apps.core.idempotency import IDEMPOTENCY_HEADER, IDEMPOTENCY_KEY_PARAMETER, idempotent
from apps.core.ratelimit import RateLimited, rate_limit, user_key
from apps.flights.exceptions import FlightNotFound
from apps.flights.models import MAX_SEGMENTS
from apps.payments.exceptions import AlreadyPaid, AmountMismatch, PaymentDeclined, PaymentGatewayTimeout
from apps.payments.models import Payment
from apps.payments.selectors import payment_get_for_user
from apps.payments.services import booking_flight_change, payment_create


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


class FlightChangeOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="The change, as the booking's change history keeps it.")
    status = serializers.ChoiceField(
        choices=FlightChange.Status.choices, help_text="done once it answers 200."
    )
    segment = serializers.IntegerField(help_text="The flight of the journey that changed (1-based).")
    from_flight_id = serializers.IntegerField()
    to_flight_id = serializers.IntegerField()
    currency = serializers.CharField()
    fare_difference = serializers.CharField(help_text="The new fares less the old, signed decimal string.")
    change_fee = serializers.CharField(help_text="Decimal string.")
    residual_kept = serializers.CharField(
        help_text="What a cheaper non-refundable fare costs less, kept by the airline, decimal string."
    )
    amount_charged = serializers.CharField(help_text="Charged to the card: the quote's amount_due.")
    amount_refunded = serializers.CharField(help_text="Refunded to the card: the quote's refund_due.")
    payment_id = serializers.IntegerField(
        allow_null=True,
        help_text="The payment (kind change) that charged it, GET payments/{id}; null: nothing charged.",
    )
    booking = BookingOutput(help_text="The booking as it now is: its new flight, seats and prices.")


def flight_change_body(change: FlightChange, booking: Booking) -> dict[str, Any]:
    """FlightChangeOutput's JSON; `booking` with its details loaded (`booking_get`)."""
    payment = Payment.objects.filter(succeeded_for_change=change).values_list("pk", flat=True).first()
    return {
        "id": change.pk,
        "status": change.status,
        "segment": change.segment,
        "from_flight_id": change.from_flight_id,
        "to_flight_id": change.to_flight_id,
        "currency": change.currency,
        "fare_difference": f"{change.fare_difference:.2f}",
        "change_fee": f"{change.change_fee:.2f}",
        "residual_kept": f"{change.residual_kept:.2f}",
        "amount_charged": f"{change.amount_due:.2f}",
        "amount_refunded": f"{change.refund_due:.2f}",
        "payment_id": payment,
        "booking": booking_body(booking, booking.passengers.all()),
    }


class BookingChangeApi(APIView):
    """Change a flight of the caller's confirmed booking to the one its quote names (GET …/change-quote),
    at the quote's price: charged first when it costs something, refunded after when it is cheaper.
    Idempotent: retry with the same Idempotency-Key, never charged or moved twice (docs/API.md,
    "Changing a flight")."""

    permission_classes = [IsAuthenticated]

    class Input(serializers.Serializer):
        segment = serializers.IntegerField(min_value=1, max_value=MAX_SEGMENTS, default=1)
        to_flight_id = serializers.IntegerField(min_value=1)
        quote = StringField(
            max_length=1000,
            help_text="The token of GET …/change-quote (or …/change-options): refused (409 quote_changed) if "
            "the change now costs or refunds another amount, or after its expires_at; 400 quote_invalid if "
            "it is not this booking's change to this flight.",
        )
        payment_method = StringField(
            max_length=64,
            required=False,
            help_text="A gateway card token, e.g. tok_visa: required when the quote's amount_due is above 0.",
        )

    @extend_schema(
        operation_id="bookings_change",
        request=Input,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            200: FlightChangeOutput,
            **problems(
                QuoteInvalid,
                PaymentDeclined,
                BookingNotFound,
                FlightNotFound,
                QuoteChanged,
                BookingNotMovable,
                ChangeNotAllowed,
                FlightNotBookable,
                MoveConnectionBroken,
                MoveRouteMismatch,
                SoldOut,
                PaymentInProgress,
                Busy,
                RateLimited,
                PaymentGatewayTimeout,
            ),
        },
        examples=[
            OpenApiExample(
                "Pay for a dearer Saver",
                value={
                    "segment": 1,
                    "to_flight_id": 57,
                    "quote": CHANGE_QUOTE["quote"],
                    "payment_method": "tok_visa",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Changed, ₹3,500 charged",
                value={
                    "id": 9,
                    "status": "done",
                    "segment": 1,
                    "from_flight_id": 12,
                    "to_flight_id": 57,
                    "currency": "INR",
                    "fare_difference": "500.00",
                    "change_fee": "3000.00",
                    "residual_kept": "0.00",
                    "amount_charged": "3500.00",
                    "amount_refunded": "0.00",
                    "payment_id": 418,
                    "booking": {"reference": "K7TQ2M", "status": "confirmed", "total_amount": "5000.00"},
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    @rate_limit(group="payment", key=user_key, rate_setting="RATELIMIT_PAYMENT", fail_open=True)
    @idempotent
    def post(self, request: Request, reference: str) -> Response:
        given = self.Input(data=request.data)
        given.is_valid(raise_exception=True)
        booking = booking_get_owned(reference=reference, user=request.user)
        change = booking_flight_change(
            booking=booking,
            actor=request.user,
            idempotency_key=request.headers[IDEMPOTENCY_HEADER],
            **given.validated_data,
        )
        return Response(flight_change_body(change, booking_get(booking_id=booking.pk)))
