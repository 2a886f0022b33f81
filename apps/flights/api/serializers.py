"""Output shapes of the catalogue, shared with the bookings API and the website.

The serializers describe the shapes (the OpenAPI document is generated from them); the hot answers
(a flight, its seat map, a booking) are built by the plain functions below, which give the same
JSON without constructing a serializer per request. apps/flights/tests/test_bodies.py holds the
two to each other.
"""

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.flights.fares import FareOption, fare_options
from apps.flights.models import CABIN_FARE_FIELDS, Cabin, FareFamily, Flight
from apps.flights.selectors import FLIGHT_ROW_FIELDS

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
        return flight_body(flight)["fares"]


class FareOptionOutput(serializers.Serializer):
    """A fare family as the flight sells it, with its rules (docs/FARES.md)."""

    code = serializers.CharField(help_text="Give it as the hold's fare_family to book this family.")
    name = serializers.CharField()
    cabin = serializers.ChoiceField(choices=Cabin.choices)
    price = serializers.DecimalField(
        max_digits=10, decimal_places=2, help_text="Per traveller, taxes included."
    )
    total = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="For all the travellers searched for, taxes included."
    )
    cabin_bag_kg = serializers.IntegerField()
    checked_bags = serializers.IntegerField()
    checked_bag_kg = serializers.IntegerField(help_text="Per checked bag.")
    refund = serializers.ChoiceField(
        choices=FareFamily.RefundRule.choices, help_text="none: only taxes back; fee: less refund_fee; full."
    )
    refund_fee = serializers.DecimalField(max_digits=10, decimal_places=2)
    change_allowed = serializers.BooleanField()
    change_fee = serializers.DecimalField(max_digits=10, decimal_places=2)


class FlightSearchResultOutput(FlightOutput):
    fare_families = FareOptionOutput(many=True, help_text="The fare families on sale, in display order.")


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


# --- Plain bodies: the same JSON as the serializers above, at a fraction of the cost ---------------

CABINS_SHOWN = (Cabin.FIRST, Cabin.BUSINESS, Cabin.PREMIUM_ECONOMY, Cabin.ECONOMY)


def datetime_text(moment: datetime) -> str:
    """A UTC instant as the API writes it (DRF's ISO 8601, with Z)."""
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def money_text(amount: Decimal) -> str:
    return f"{amount:.2f}"


def flight_row_body(row: Mapping[str, Any]) -> dict[str, Any]:
    """FlightOutput's JSON from a row of FLIGHT_ROW_FIELDS (apps/flights/selectors.py)."""
    departure, arrival = row["departure_time"], row["arrival_time"]
    fares = {}
    for cabin in CABINS_SHOWN:
        fare = row[CABIN_FARE_FIELDS[cabin]]
        if fare is not None:
            fares[cabin.value] = money_text(fare)
    body: dict[str, Any] = {"id": row["id"], "flight_number": row["flight_number"]}
    for side in ("departure", "arrival"):
        prefix = f"{side}_airport__"
        body[f"{side}_airport"] = {
            "code": row[prefix + "iata_code"],
            "name": row[prefix + "name"],
            "city": row[prefix + "city__name"],
            "country": row[prefix + "city__country"],
            "time_zone": row[prefix + "time_zone"],
        }
    body |= {
        "airplane": {
            "id": row["airplane_id"],
            "model_name": row["airplane__model_name"],
            "registration": row["airplane__registration"],
        },
        "departure_time": datetime_text(departure),
        "arrival_time": datetime_text(arrival),
        "departure_local": departure.astimezone(ZoneInfo(row["departure_airport__time_zone"])).isoformat(),
        "arrival_local": arrival.astimezone(ZoneInfo(row["arrival_airport__time_zone"])).isoformat(),
        "duration_minutes": int((arrival - departure).total_seconds() // 60),
        "currency": row["currency"],
        "base_fare": money_text(row["base_fare"]),
        "fares": fares,
        "gate": row["gate"],
        "status": row["status"],
        "total_seats": row["total_seats"],
        "available_seats": row["available_seats"],
    }
    return body


def flight_body(flight: Flight) -> dict[str, Any]:
    """FlightOutput's JSON for a flight with its airplane and airports with their cities loaded."""
    row: dict[str, Any] = {field: getattr(flight, field) for field in FLIGHT_ROW_FIELDS if "__" not in field}
    row |= {
        "airplane__model_name": flight.airplane.model_name,
        "airplane__registration": flight.airplane.registration,
    }
    for side in ("departure", "arrival"):
        airport = getattr(flight, f"{side}_airport")
        row |= {
            f"{side}_airport__iata_code": airport.iata_code,
            f"{side}_airport__name": airport.name,
            f"{side}_airport__city__name": airport.city.name,
            f"{side}_airport__city__country": airport.city.country,
            f"{side}_airport__time_zone": airport.time_zone,
        }
    return flight_row_body(row)


def fare_option_body(option: FareOption) -> dict[str, Any]:
    """FareOptionOutput's JSON."""
    family = option.family
    return {
        "code": family.code,
        "name": family.name,
        "cabin": family.cabin,
        "price": money_text(option.price),
        "total": money_text(option.total),
        "cabin_bag_kg": family.cabin_bag_kg,
        "checked_bags": family.checked_bags,
        "checked_bag_kg": family.checked_bag_kg,
        "refund": family.refund_rule,
        "refund_fee": money_text(family.refund_fee),
        "change_allowed": family.change_allowed,
        "change_fee": money_text(family.change_fee),
    }


def search_row_body(
    row: Mapping[str, Any], catalogue: Mapping[str, FareFamily], travellers: int
) -> dict[str, Any]:
    """FlightSearchResultOutput's JSON from a search row (SEARCH_ROW_FIELDS)."""
    options = fare_options(row["family_fares"], catalogue, travellers)
    return flight_row_body(row) | {"fare_families": [fare_option_body(option) for option in options]}


def seat_map_body(seat_map) -> dict[str, Any]:
    """SeatMapOutput's JSON for a `flight_seat_map`."""
    flight = seat_map.flight
    return {
        "flight_id": flight.pk,
        "flight_number": flight.flight_number,
        "currency": flight.currency,
        "total_seats": flight.total_seats,
        "available_seats": flight.available_seats,
        "seats": [
            {
                "code": seat.code,
                "row": seat.row,
                "letter": seat.letter,
                "cabin": seat.cabin,
                "fare": money_text(seat.fare) if seat.fare is not None else None,
                "status": seat.status,
            }
            for seat in seat_map.seats
        ],
    }


def json_bytes(data: Any) -> bytes:
    """JSON as the API's renderer writes it (compact, UTF-8)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
