"""Output shapes of the catalogue, shared with the bookings API and the website."""

from zoneinfo import ZoneInfo

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.flights.models import Cabin, Flight

FARE_FIELD = serializers.DecimalField(max_digits=10, decimal_places=2)
SEAT_STATUSES = ("available", "taken")


# Named schema components, so these enums do not collide with other apps' `status` choices.
@extend_schema_field({"type": "string", "enum": Flight.Status.values}, component_name="FlightStatus")
class FlightStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=Flight.Status.choices, **kwargs)


@extend_schema_field({"type": "string", "enum": list(SEAT_STATUSES)}, component_name="SeatStatus")
class SeatStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=SEAT_STATUSES, **kwargs)


class CityOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    country = serializers.CharField()


class AirportBriefOutput(serializers.Serializer):
    code = serializers.CharField(source="iata_code")
    name = serializers.CharField()
    city = serializers.CharField(source="city.name")
    country = serializers.CharField(source="city.country")
    time_zone = serializers.CharField()


class AirportOutput(AirportBriefOutput):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()


class AirplaneBriefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    model_name = serializers.CharField()
    registration = serializers.CharField()


class CabinSectionOutput(serializers.Serializer):
    cabin = serializers.ChoiceField(choices=Cabin.choices)
    first_row = serializers.IntegerField()
    last_row = serializers.IntegerField()
    seat_letters = serializers.CharField()
    seats = serializers.IntegerField(source="seat_count")


class AirplaneOutput(AirplaneBriefOutput):
    capacity = serializers.IntegerField()
    cabin_sections = CabinSectionOutput(many=True)


class FlightOutput(serializers.Serializer):
    """A flight as the API shows it: UTC and local times, fares per cabin, seat counts.

    Expects the airplane and both airports with their cities loaded (select_related).
    """

    id = serializers.IntegerField()
    flight_number = serializers.CharField()
    departure_airport = AirportBriefOutput()
    arrival_airport = AirportBriefOutput()
    airplane = AirplaneBriefOutput()
    departure_time = serializers.DateTimeField()
    arrival_time = serializers.DateTimeField()
    departure_local = serializers.SerializerMethodField()
    arrival_local = serializers.SerializerMethodField()
    duration_minutes = serializers.SerializerMethodField()
    currency = serializers.CharField()
    base_fare = serializers.DecimalField(max_digits=10, decimal_places=2)
    fares = serializers.SerializerMethodField()
    gate = serializers.CharField()
    status = FlightStatusField()
    total_seats = serializers.IntegerField()
    available_seats = serializers.IntegerField()

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_departure_local(self, flight: Flight) -> str:
        return flight.departure_time.astimezone(ZoneInfo(flight.departure_airport.time_zone)).isoformat()

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_arrival_local(self, flight: Flight) -> str:
        return flight.arrival_time.astimezone(ZoneInfo(flight.arrival_airport.time_zone)).isoformat()

    def get_duration_minutes(self, flight: Flight) -> int:
        return int((flight.arrival_time - flight.departure_time).total_seconds() // 60)

    @extend_schema_field(serializers.DictField(child=FARE_FIELD))
    def get_fares(self, flight: Flight) -> dict[str, str]:
        """{cabin: fare} for the cabins this flight sells; economy's is the base fare."""
        fares = {}
        for cabin in (Cabin.FIRST, Cabin.BUSINESS, Cabin.PREMIUM_ECONOMY, Cabin.ECONOMY):
            fare = flight.fare_for(cabin)
            if fare is not None:
                fares[cabin.value] = f"{fare:.2f}"
        return fares


class SeatOutput(serializers.Serializer):
    code = serializers.CharField()
    row = serializers.IntegerField()
    letter = serializers.CharField()
    cabin = serializers.ChoiceField(choices=Cabin.choices)
    fare = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    status = SeatStatusField()


class SeatMapOutput(serializers.Serializer):
    flight_id = serializers.IntegerField(source="flight.id")
    flight_number = serializers.CharField(source="flight.flight_number")
    currency = serializers.CharField(source="flight.currency")
    total_seats = serializers.IntegerField(source="flight.total_seats")
    available_seats = serializers.IntegerField(source="flight.available_seats")
    seats = SeatOutput(many=True)
