"""Journeys in the API: one way, return and multi-city search (docs/API.md, "Journeys")."""

import hashlib
import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.core.api.schema import problems
from apps.core.exceptions import ValidationFailed
from apps.core.http import json_bytes_response
from apps.core.permissions import ModelPermissionsOrReadOnly
from apps.core.ratelimit import RateLimited, ip_key, rate_limit_check
from apps.flights.api.flights import place_parse, travellers_parse, trip_date_parse
from apps.flights.api.serializers import (
    FareOptionOutput,
    FlightOutput,
    json_bytes,
    money_text,
    search_row_body,
)
from apps.flights.fares import fare_family_catalogue_cached
from apps.flights.journeys import (
    Journey,
    JourneyFlight,
    JourneyInvalid,
    JourneySegmentQuery,
    TripKind,
    journey_problem_errors,
    journey_search,
)
from apps.flights.models import MAX_PARTY_SIZE, MAX_SEGMENTS, Cabin, FareFamily, Flight
from apps.flights.places import Place, PlaceIndex, place_index

REQUIRED = "This field is required."
PLACE_MAX_LENGTH = 120
DATE_MAX_LENGTH = 20
_NUMBERED = re.compile(r"^(origin|destination|date)_(\d+)$")


def _place_field(help_text: str) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, max_length=PLACE_MAX_LENGTH, help_text=help_text
    )


def _date_field(help_text: str) -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, max_length=DATE_MAX_LENGTH, help_text=help_text
    )


class JourneySearchInput(serializers.Serializer):
    """The journey search's parameters (docs/API.md, "Journeys"): read by `journey_query`, described
    here for the OpenAPI document."""

    trip = serializers.ChoiceField(
        choices=[kind.value for kind in TripKind],
        required=False,
        allow_blank=True,
        help_text="one_way (the default), return, or multi_city.",
    )
    origin = _place_field(
        "one_way and return: where from, a city, an airport's name or its IATA code (as the search's)."
    )
    destination = _place_field("one_way and return: where to, as origin.")
    date = _date_field("one_way and return: the departure date YYYY-MM-DD, in the origin's local time.")
    return_date = _date_field("return: the date YYYY-MM-DD of the flight back, not before date.")
    passengers = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=5,
        help_text=f"Travellers, 1 to {MAX_PARTY_SIZE} (1): every flight has their seats, prices are for all.",
    )


for _position in range(1, MAX_SEGMENTS + 1):
    JourneySearchInput._declared_fields |= {
        f"origin_{_position}": _place_field(f"multi_city: flight {_position}'s origin (2 to 4 flights)."),
        f"destination_{_position}": _place_field(f"multi_city: flight {_position}'s destination."),
        f"date_{_position}": _date_field(f"multi_city: flight {_position}'s date YYYY-MM-DD."),
    }


class JourneyPriceOutput(serializers.Serializer):
    cabin = serializers.ChoiceField(choices=Cabin.choices, help_text="The cheapest cabin with room for all.")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="For all passengers.")
    currency = serializers.CharField()


class JourneyFlightOutput(FlightOutput):
    price = JourneyPriceOutput()
    fare_families = FareOptionOutput(
        many=True, help_text="The fare families on sale, in display order; totals for all passengers."
    )


class JourneyPlaceOutput(serializers.Serializer):
    name = serializers.CharField(help_text="A city's name, or an airport's code.")
    label = serializers.CharField()
    airports = serializers.ListField(child=serializers.CharField())


class JourneySegmentOutput(serializers.Serializer):
    position = serializers.IntegerField(min_value=1)
    origin = JourneyPlaceOutput()
    destination = JourneyPlaceOutput()
    date = serializers.DateField()
    flights = JourneyFlightOutput(many=True, help_text="The bookable flights, by departure time.")


class JourneyTotalOutput(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    flights = serializers.ListField(
        child=serializers.IntegerField(), help_text="The flight of each segment that makes it, in order."
    )


class JourneyOutput(serializers.Serializer):
    trip = serializers.ChoiceField(choices=[kind.value for kind in TripKind])
    passengers = serializers.IntegerField()
    segments = JourneySegmentOutput(many=True)
    cheapest_total = JourneyTotalOutput(
        allow_null=True, help_text="Null when no choice of flights keeps the connection rule."
    )


def journey_parameter_name(trip: TripKind) -> Callable[[int, str], str]:
    """The query parameter of a segment's field: origin, destination, date and return_date for one
    way and return, origin_N, destination_N, date_N for multi-city."""

    def name_of(position: int, field: str) -> str:
        if trip == TripKind.MULTI_CITY:
            return f"{field}_{position}"
        if position == 2 and field == "date":
            return "return_date"
        return field

    return name_of


def journey_query(query: Mapping[str, str]) -> tuple[TripKind, list[JourneySegmentQuery], int]:
    """The trip, its segments and passengers from the query parameters. Raises ValidationFailed (400)
    naming each bad parameter: malformed, missing, an unknown place, a date out of range."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    index: PlaceIndex | None = None

    def read(name: str, max_length: int, parse: Callable[[str], Any], required: bool = True) -> None:
        nonlocal index
        text = (query.get(name) or "").strip()
        if not text:
            if required:
                errors[name] = [REQUIRED]
            return
        if "\x00" in text:
            errors[name] = ["Null characters are not allowed."]
            return
        if len(text) > max_length:
            errors[name] = [f"Ensure this field has no more than {max_length} characters."]
            return
        if parse is place_parse:  # one read of the index for every place
            index = index or place_index()
            parse = partial(place_parse, index=index)
        try:
            values[name] = parse(text)
        except serializers.ValidationError as error:
            errors[name] = [str(message) for message in error.detail]

    trip_text = (query.get("trip") or "").strip() or TripKind.ONE_WAY.value
    trip = TripKind(trip_text) if trip_text in TripKind._value2member_map_ else None
    if trip is None:
        errors["trip"] = [f"Must be one of {', '.join(kind.value for kind in TripKind)}."]
    read("passengers", 5, travellers_parse, required=False)
    if trip == TripKind.MULTI_CITY:
        names = _multi_city_names(query, errors)
    else:
        names = [("origin", "destination", "date")]
        if trip == TripKind.RETURN:
            read("return_date", DATE_MAX_LENGTH, trip_date_parse)
    for origin, destination, day in names:
        read(origin, PLACE_MAX_LENGTH, place_parse)
        read(destination, PLACE_MAX_LENGTH, place_parse)
        read(day, DATE_MAX_LENGTH, trip_date_parse)
    if errors or trip is None:
        raise ValidationFailed("Invalid input.", errors=errors)
    segments = [JourneySegmentQuery(values[o], values[d], values[t]) for o, d, t in names]
    if trip == TripKind.RETURN:
        outbound = segments[0]
        segments.append(JourneySegmentQuery(outbound.destination, outbound.origin, values["return_date"]))
    return trip, segments, values.get("passengers") or 1


def _multi_city_names(query: Mapping[str, str], errors: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    """The parameter names of each multi-city segment: 1 up to the last one given (at least 2).
    A segment number past MAX_SEGMENTS is refused, naming the parameter."""
    last = 2
    for name in query:
        match = _NUMBERED.match(name)
        if not match or not (query.get(name) or "").strip():
            continue
        position = int(match.group(2))
        if not 1 <= position <= MAX_SEGMENTS:
            errors[name] = [f"A multi-city trip has 2 to {MAX_SEGMENTS} flights, numbered from 1."]
        else:
            last = max(last, position)
    return [(f"origin_{k}", f"destination_{k}", f"date_{k}") for k in range(1, last + 1)]


def place_body(place: Place) -> dict[str, Any]:
    return {"name": place.name, "label": place.label, "airports": list(place.codes)}


def journey_flight_body(
    flight: JourneyFlight, catalogue: Mapping[str, FareFamily], passengers: int
) -> dict[str, Any]:
    return search_row_body(flight.row, catalogue, passengers) | {
        "price": {"cabin": flight.cabin, "amount": money_text(flight.price), "currency": flight.currency}
    }


def journey_body(journey: Journey) -> dict[str, Any]:
    """JourneyOutput's JSON."""
    total = journey.cheapest_total
    catalogue = fare_family_catalogue_cached()
    return {
        "trip": journey.trip.value,
        "passengers": journey.passengers,
        "segments": [
            {
                "position": segment.position,
                "origin": place_body(segment.query.origin),
                "destination": place_body(segment.query.destination),
                "date": segment.query.day.isoformat(),
                "flights": [
                    journey_flight_body(flight, catalogue, journey.passengers) for flight in segment.flights
                ],
            }
            for segment in journey.segments
        ],
        "cheapest_total": {
            "amount": money_text(total.amount),
            "currency": total.currency,
            "flights": list(total.flight_ids),
        }
        if total
        else None,
    }


class JourneySearchApi(APIView):
    """One way, return or multi-city search: each segment's flights and the cheapest total."""

    permission_classes = [ModelPermissionsOrReadOnly]
    permission_model = Flight

    @extend_schema(
        operation_id="journeys_search",
        parameters=[JourneySearchInput],
        responses={200: JourneyOutput, **problems(RateLimited)},
    )
    def get(self, request: Request) -> HttpResponse:
        """Each segment is the search's answer for its route and date (cached under the catalogue
        version, SEARCH_CACHE_TTL_SECONDS: no query when cached), each flight priced for all
        passengers; the cheapest total keeps JOURNEY_MIN_CONNECTION_MINUTES between segments
        (apps/flights/journeys.py). Counted against the search's per-IP rate limit."""
        rate_limit_check(request, group="search", key=ip_key, rate_setting="RATELIMIT_SEARCH", fail_open=True)
        trip, segments, passengers = journey_query(request.query_params)
        try:
            journey = journey_search(trip=trip, segments=segments, passengers=passengers)
        except JourneyInvalid as error:
            raise ValidationFailed(
                "Invalid input.", errors=journey_problem_errors(error.problems, journey_parameter_name(trip))
            ) from None
        body = json_bytes(journey_body(journey))
        return json_bytes_response(
            request,
            body,
            etag=hashlib.blake2b(body, digest_size=12).hexdigest(),
            max_age=settings.SEARCH_CACHE_TTL_SECONDS,
            headers={"X-Cache": "hit" if all(journey.hits) else "miss"},
        )
