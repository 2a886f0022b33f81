from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.bookings.api.serializers import BookingOutput
from apps.bookings.models import Booking
from apps.bookings.selectors import booking_get, booking_get_for_user, booking_list
from apps.bookings.services import booking_cancel, booking_hold_create
from apps.core.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from apps.core.pagination import paginated, paginated_response
from apps.core.ratelimit import rate_limit, user_key
from apps.flights.models import MAX_PARTY_SIZE


class BookingListCreateApi(APIView):
    """GET: the caller's bookings (staff: all), newest first. POST: hold seats on a flight."""

    permission_classes = [IsAuthenticated]

    class Input(serializers.Serializer):
        class PassengerInput(serializers.Serializer):
            first_name = serializers.CharField(max_length=100)
            last_name = serializers.CharField(max_length=100)

        flight_id = serializers.IntegerField(min_value=1)
        passengers = PassengerInput(many=True, min_length=1, max_length=MAX_PARTY_SIZE)
        seats = serializers.ListField(
            child=serializers.CharField(max_length=4),
            required=False,
            max_length=MAX_PARTY_SIZE,
            help_text="One seat code per passenger, e.g. 12A; leave out to have seats assigned.",
        )

    class FilterInput(serializers.Serializer):
        status = serializers.ChoiceField(choices=Booking.Status.choices, required=False)

    @extend_schema(
        operation_id="bookings_list", parameters=[FilterInput], responses={200: paginated(BookingOutput)}
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        bookings = booking_list(user=request.user, status=filters.validated_data.get("status"))
        return paginated_response(request, self, bookings, BookingOutput)

    @extend_schema(
        operation_id="bookings_create",
        request=Input,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={201: BookingOutput},
    )
    @rate_limit(group="booking", key=user_key, rate_setting="RATELIMIT_BOOKING", fail_open=True)
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = booking_hold_create(user=request.user, **serializer.validated_data)
        return Response(
            BookingOutput(booking_get(booking_id=booking.pk)).data, status=status.HTTP_201_CREATED
        )


class BookingDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="bookings_retrieve", responses={200: BookingOutput})
    def get(self, request: Request, reference: str) -> Response:
        booking = booking_get_for_user(reference=reference, user=request.user)
        return Response(BookingOutput(booking).data)


class BookingCancelApi(APIView):
    """Cancel a booking: a hold gives its seats back; a confirmed booking is refunded first."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="bookings_cancel",
        request=None,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={200: BookingOutput},
    )
    @idempotent
    def post(self, request: Request, reference: str) -> Response:
        booking = booking_get_for_user(reference=reference, user=request.user)
        booking = booking_cancel(booking=booking, actor=request.user)
        return Response(BookingOutput(booking_get(booking_id=booking.pk)).data)
