from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.bookings.api.examples import CHANGE_QUOTE_EXAMPLE
from apps.bookings.api.inputs import HoldInput, JourneyHoldInput, hold_input
from apps.bookings.api.serializers import (
    BookingOutput,
    CancellationQuoteOutput,
    ChangeOptionsOutput,
    ChangeQuoteOutput,
    booking_body,
    change_options_body,
    change_quote_body,
    quote_body,
)
from apps.bookings.exceptions import (
    BookingNotCancellable,
    BookingNotFound,
    BookingNotMovable,
    ChangeNotAllowed,
    FlightNotBookable,
    MoveConnectionBroken,
    MoveRouteMismatch,
    PaymentInProgress,
    QuoteChanged,
    QuoteInvalid,
    RefundFailed,
    RefundUnavailable,
    SeatUnavailable,
    SeatUnknown,
    SoldOut,
)
from apps.bookings.models import Booking
from apps.bookings.selectors import booking_get, booking_get_for_user, booking_list
from apps.bookings.services import booking_cancel, booking_hold_create
from apps.bookings.services.flight_changes import flight_change_options, flight_change_quote
from apps.bookings.services.quotes import booking_cancellation_quote, quote_token_amount
from apps.core.api.schema import problems
from apps.core.exceptions import Busy, ValidationFailed
from apps.core.idempotency import (
    IDEMPOTENCY_KEY_PARAMETER,
    TransactionalKey,
    idempotent,
    idempotent_in_transaction,
)
from apps.core.pagination import PAGE_PARAMETERS, paginated, paginated_response
from apps.core.ratelimit import RateLimited, rate_limit, user_key
from apps.flights.exceptions import FlightNotFound
from apps.flights.models import MAX_SEGMENTS
from apps.flights.selectors import trip_date_searchable


class BookingListCreateApi(APIView):
    """GET: the caller's bookings (staff: all), newest first. POST: hold seats on a flight, or on each
    flight of a journey (`segments`: a return or multi-city trip, all held or none)."""

    permission_classes = [IsAuthenticated]

    class FilterInput(serializers.Serializer):
        status = serializers.ChoiceField(choices=Booking.Status.choices, required=False)

    @extend_schema(
        operation_id="bookings_list",
        parameters=[FilterInput, *PAGE_PARAMETERS],
        responses={200: paginated(BookingOutput)},
    )
    def get(self, request: Request) -> Response:
        # A plain dict, not the QueryDict: DRF reads a blank value of a form-like input as "not given",
        # so `status=` would list every booking instead of being refused.
        filters = self.FilterInput(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        bookings = booking_list(user=request.user, status=filters.validated_data.get("status"))
        return paginated_response(
            request, self, bookings, lambda booking: booking_body(booking, booking.passengers.all())
        )

    @extend_schema(
        operation_id="bookings_create",
        request=PolymorphicProxySerializer(
            component_name="HoldRequest",
            serializers=[HoldInput, JourneyHoldInput],
            resource_type_field_name=None,
        ),
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: BookingOutput,
            **problems(
                FlightNotFound, SoldOut, SeatUnavailable, FlightNotBookable, Busy, SeatUnknown, RateLimited
            ),
        },
    )
    @rate_limit(group="booking", key=user_key, rate_setting="RATELIMIT_BOOKING", fail_open=True)
    @idempotent_in_transaction
    def post(self, request: Request, idempotency: TransactionalKey) -> Response:
        """The hot path of a sale: one transaction holds the seats and records the key's answer, built
        from the objects the hold wrote (no serializer, nothing read again)."""
        answer: dict[str, Any] = {}

        def record(booking: Booking) -> None:
            answer.update(booking_body(booking, booking.passengers_held))
            idempotency.record(status=status.HTTP_201_CREATED, body=answer)

        booking_hold_create(user=request.user, **hold_input(request.data), before_commit=record)
        return Response(answer, status=status.HTTP_201_CREATED)


class BookingDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="bookings_retrieve", responses={200: BookingOutput, **problems(BookingNotFound)}
    )
    def get(self, request: Request, reference: str) -> Response:
        booking = booking_get_for_user(reference=reference, user=request.user)
        return Response(booking_body(booking, booking.passengers.all()))


class BookingCancellationQuoteApi(APIView):
    """What cancelling the booking now would refund, line by line, with a token to cancel by."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="bookings_cancellation_quote",
        responses={200: CancellationQuoteOutput, **problems(BookingNotFound)},
    )
    def get(self, request: Request, reference: str) -> Response:
        booking = booking_get_for_user(reference=reference, user=request.user)
        return Response(quote_body(booking_cancellation_quote(booking=booking, actor=request.user)))


class BookingCancelApi(APIView):
    """Cancel a booking: a hold gives its seats back; a confirmed booking is refunded first, by the amount of
    its cancellation quote. With `quote` (or `expected_refund`), a different amount is refused."""

    permission_classes = [IsAuthenticated]

    class Input(serializers.Serializer):
        quote = serializers.CharField(
            required=False,
            max_length=500,
            help_text="The token of GET …/cancellation-quote: refused (409 quote_changed) if the refund "
            "now differs from it or it has expired; 400 quote_invalid if it is not this booking's.",
        )
        expected_refund = serializers.DecimalField(
            required=False,
            max_digits=12,
            decimal_places=2,
            min_value=0,
            help_text="The refund the client showed, decimal string: refused (409 quote_changed) if the "
            "refund now differs.",
        )

    @extend_schema(
        operation_id="bookings_cancel",
        request=Input,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            200: BookingOutput,
            **problems(
                BookingNotFound,
                BookingNotCancellable,
                PaymentInProgress,
                RefundUnavailable,
                Busy,
                RefundFailed,
                QuoteChanged,
                QuoteInvalid,
            ),
        },
    )
    @idempotent
    def post(self, request: Request, reference: str) -> Response:
        given = self.Input(data=request.data)
        given.is_valid(raise_exception=True)
        booking = booking_get_for_user(reference=reference, user=request.user)
        expected = given.validated_data.get("expected_refund")
        if "quote" in given.validated_data:
            quoted = quote_token_amount(given.validated_data["quote"], booking=booking)
            if expected is not None and expected != quoted:
                raise QuoteInvalid(errors={"expected_refund": [f"The quote says {quoted}."]})
            expected = quoted
        booking = booking_cancel(booking=booking, actor=request.user, expected_refund=expected)
        booking = booking_get(booking_id=booking.pk)
        return Response(booking_body(booking, booking.passengers.all()))


class BookingChangeOptionsApi(APIView):
    """The flights a flight of the caller's confirmed booking may change to on one day, each with what
    the change costs (or why it cannot): docs/API.md, "Changing a flight"."""

    permission_classes = [IsAuthenticated]

    class FilterInput(serializers.Serializer):
        segment = serializers.IntegerField(
            min_value=1, max_value=MAX_SEGMENTS, default=1, help_text="The flight of the journey (1-based)."
        )
        date = serializers.DateField(
            required=False,
            help_text="The day to list (local at the segment's departure airport); the segment's own day "
            "when left out.",
        )

    @extend_schema(
        operation_id="bookings_change_options",
        parameters=[FilterInput],
        responses={
            200: ChangeOptionsOutput,
            **problems(BookingNotFound, BookingNotMovable, ChangeNotAllowed),
        },
    )
    def get(self, request: Request, reference: str) -> Response:
        filters = self.FilterInput(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        segment, day = filters.validated_data["segment"], filters.validated_data.get("date")
        if day is not None and not trip_date_searchable(day):
            raise ValidationFailed("That day is too far away.", errors={"date": ["Too far from today."]})
        booking = booking_get_for_user(reference=reference, user=request.user)
        from_flight, day, options = flight_change_options(
            booking=booking, segment=segment, day=day, actor=request.user
        )
        return Response(change_options_body(booking, segment, day, from_flight, options))


class BookingChangeQuoteApi(APIView):
    """What changing a flight of the caller's confirmed booking to another would cost, passenger by
    passenger, with a token to change by (docs/API.md, "Changing a flight")."""

    permission_classes = [IsAuthenticated]

    class FilterInput(serializers.Serializer):
        segment = serializers.IntegerField(
            min_value=1, max_value=MAX_SEGMENTS, default=1, help_text="The flight of the journey (1-based)."
        )
        to_flight_id = serializers.IntegerField(min_value=1, help_text="The flight to change to.")

    @extend_schema(
        operation_id="bookings_change_quote",
        parameters=[FilterInput],
        responses={
            200: ChangeQuoteOutput,
            **problems(
                BookingNotFound,
                FlightNotFound,
                BookingNotMovable,
                ChangeNotAllowed,
                FlightNotBookable,
                MoveConnectionBroken,
                MoveRouteMismatch,
                SoldOut,
            ),
        },
        examples=[CHANGE_QUOTE_EXAMPLE],
    )
    def get(self, request: Request, reference: str) -> Response:
        filters = self.FilterInput(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        booking = booking_get_for_user(reference=reference, user=request.user)
        quote = flight_change_quote(booking=booking, actor=request.user, **filters.validated_data)
        return Response(change_quote_body(quote))
