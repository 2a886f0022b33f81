"""How a booking looks in the API (shared by every bookings endpoint)."""

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.bookings.models import Booking, Passenger
from apps.flights.api.serializers import FlightOutput


def _active_seat_code(passenger: Passenger) -> str | None:
    try:
        assignment = passenger.seat_assignment
    except ObjectDoesNotExist:
        return None
    return assignment.seat_code if assignment.active else None


class PassengerOutput(serializers.Serializer):
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    seat = serializers.SerializerMethodField(help_text="Seat code; null once the seat is released.")

    @extend_schema_field(OpenApiTypes.STR)
    def get_seat(self, passenger: Passenger) -> str | None:
        return _active_seat_code(passenger)


class BookingOutput(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Booking.Status.choices)
    flight = FlightOutput()
    passengers = PassengerOutput(many=True)
    seats = serializers.SerializerMethodField(help_text="Seat codes held or sold, e.g. 12A.")
    total_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    hold_expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_seats(self, booking: Booking) -> list[str]:
        codes = (_active_seat_code(passenger) for passenger in booking.passengers.all())
        return [code for code in codes if code]
