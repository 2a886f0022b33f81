"""Flights in the API: search (cached), detail, seat map, and the staff's catalogue writes."""

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.fields import StringField
from apps.core.api.schema import problems
from apps.core.db_router import catalogue_read
from apps.core.exceptions import PermissionDenied, ValidationFailed
from apps.core.http import json_bytes_response
from apps.core.pagination import PAGE_PARAMETERS, PageNumberPagination, paginated
from apps.core.permissions import ModelPermissionsOrReadOnly
from apps.core.ratelimit import RateLimited, ip_key, rate_limit_for
from apps.flights.api.serializers import (
    FlightOutput,
    FlightSearchResultOutput,
    FlightStatusField,
    SeatMapOutput,
    flight_body,
    json_bytes,
    search_row_body,
    seat_map_body,
)
from apps.flights.exceptions import FlightHasBookings, FlightNotFound
from apps.flights.fares import fare_family_catalogue_cached
from apps.flights.models import MAX_PARTY_SIZE, Flight
from apps.flights.places import (
    Place,
    PlaceIndex,
    PlaceNotFound,
    airport_codes_check,
    place_index,
    place_resolve,
)
from apps.flights.search_cache import cached_json, search_token
from apps.flights.selectors import (
    SORT_DIRECTIONS,
    SORT_FIELDS,
    TRIP_DATE_MAX_YEARS_AWAY,
    FlightSearchCriteria,
    flight_fares_by_day,
    flight_get,
    flight_search_page,
    flight_seat_map,
    trip_date_searchable,
)
from apps.flights.services import flight_create, flight_delete, flight_update

TRIPS_RE = re.compile(r"^([A-Za-z]{3})-([A-Za-z]{3})$")
PRICE_RE = re.compile(r"^(\d{1,8}(?:\.\d{1,2})?)(?:-(\d{1,8}(?:\.\d{1,2})?))?$")


def trips_parse(value: str) -> tuple[str, str] | None:
    if not value:
        return None
    match = TRIPS_RE.match(value.strip())
    if not match:
        raise serializers.ValidationError("Must be two IATA codes as DEPARTURE-ARRIVAL, e.g. BOM-DEL.")
    departure, arrival = match.group(1).upper(), match.group(2).upper()
    if departure == arrival:
        raise serializers.ValidationError("The departure and arrival airports must differ.")
    return departure, arrival


def place_parse(value: str, index: PlaceIndex | None = None) -> Place | None:
    if not value:
        return None
    try:
        return place_resolve(value, index)
    except PlaceNotFound as error:
        raise serializers.ValidationError(str(error)) from None


def price_parse(value: str) -> tuple[Decimal, Decimal | None] | None:
    if not value:
        return None
    match = PRICE_RE.match(value.strip())
    if not match:
        raise serializers.ValidationError("Must be MIN-MAX or MIN, amounts such as 1000 or 4999.50.")
    try:
        low = Decimal(match.group(1))
        high = Decimal(match.group(2)) if match.group(2) else None
    except InvalidOperation:
        raise serializers.ValidationError("Must be MIN-MAX or MIN.") from None
    if high is not None and high < low:
        raise serializers.ValidationError("The maximum must not be below the minimum.")
    return low, high


def travellers_parse(value: str) -> int | None:
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_PARTY_SIZE:
        raise serializers.ValidationError(f"Must be a whole number from 1 to {MAX_PARTY_SIZE}.")
    return int(value)


def trip_date_parse(value: str) -> date | None:
    if not value:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise serializers.ValidationError("Must be a date as YYYY-MM-DD.") from None
    if not trip_date_searchable(day):
        raise serializers.ValidationError(f"Must be within {TRIP_DATE_MAX_YEARS_AWAY} years of today.")
    return day


def sort_parse(value: str) -> tuple[tuple[str, str], ...]:
    if not value:
        return ()
    keys: list[tuple[str, str]] = []
    for item in value.split(","):
        field, _, direction = item.strip().rpartition("_")
        if field not in SORT_FIELDS or direction not in SORT_DIRECTIONS:
            raise serializers.ValidationError(
                f"{item!r} is not FIELD_asc or FIELD_desc with FIELD one of {', '.join(SORT_FIELDS)}."
            )
        if any(field == seen for seen, _ in keys):
            raise serializers.ValidationError(f"{field} appears more than once.")
        keys.append((field, direction))
    return tuple(keys)


# The search's parameters: (longest value, parser). FlightSearchInput describes them; `search_criteria`
# reads them on every search without a serializer (a test holds the two together).
SEARCH_PARAMETERS: dict[str, tuple[int, Any]] = {
    "trips": (20, trips_parse),
    "origin": (120, place_parse),
    "destination": (120, place_parse),
    "price": (40, price_parse),
    "travellers": (5, travellers_parse),
    "tripDate": (20, trip_date_parse),
    "sort": (200, sort_parse),
}


class RouteInput(serializers.Serializer):
    """Where from and to, as airport codes (`trips`) or places (`origin`, `destination`): the route of a
    search and of fares by day alike (docs/API.md, "Search")."""

    trips = serializers.CharField(
        required=False, allow_blank=True, max_length=20, help_text="Route as DEPARTURE-ARRIVAL, e.g. BOM-DEL."
    )
    origin = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=120,
        help_text="Where from, instead of trips: a city (all its airports), an airport's name or its IATA"
        " code; case and accents do not matter, former names such as Bombay work. Unknown or ambiguous: 400.",
    )
    destination = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=120,
        help_text="Where to, instead of trips: as origin.",
    )


class FlightSearchInput(RouteInput):
    """The search parameters travellers already use (docs/API.md, "Search"); a blank value means "any"."""

    price = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="Base fare range MIN-MAX, e.g. 1000-5000; a single value is a minimum.",
    )
    travellers = serializers.CharField(
        required=False, allow_blank=True, max_length=5, help_text=f"Seats needed, 1 to {MAX_PARTY_SIZE}."
    )
    tripDate = serializers.CharField(  # noqa: N815 - the public parameter name
        required=False,
        allow_blank=True,
        max_length=20,
        help_text="Departure date YYYY-MM-DD in the departure airport's local time.",
    )
    sort = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Comma-separated FIELD_asc|FIELD_desc; FIELD is one of " + ", ".join(SORT_FIELDS) + ".",
    )

    def validate_trips(self, value: str) -> tuple[str, str] | None:
        return trips_parse(value)

    def validate_origin(self, value: str) -> Place | None:
        return place_parse(value)

    def validate_destination(self, value: str) -> Place | None:
        return place_parse(value)

    def validate_price(self, value: str) -> tuple[Decimal, Decimal | None] | None:
        return price_parse(value)

    def validate_travellers(self, value: str) -> int | None:
        return travellers_parse(value)

    def validate_tripDate(self, value: str) -> date | None:  # noqa: N802 - the public parameter name
        return trip_date_parse(value)

    def validate_sort(self, value: str) -> tuple[tuple[str, str], ...]:
        return sort_parse(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = route_errors(attrs)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def route_errors(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """What is wrong with the route as a whole: trips together with places, or the same place twice."""
    trips, origin, destination = values.get("trips"), values.get("origin"), values.get("destination")
    if trips and (origin or destination):
        return {"trips": ["Give either trips or origin and destination, not both."]}
    if origin and destination and set(origin.codes) & set(destination.codes):
        return {"destination": ["The destination must differ from the origin."]}
    return {}


def trips_check(criteria: FlightSearchCriteria) -> None:
    """Raises ValidationFailed naming `trips` when one of its codes is no airport of the catalogue
    (from the place index: no query while the catalogue version stands)."""
    try:
        airport_codes_check(criteria.departure_codes + criteria.arrival_codes)
    except PlaceNotFound as error:
        raise ValidationFailed("Invalid input.", errors={"trips": [str(error)]}) from None


def search_criteria(query: Mapping[str, str]) -> FlightSearchCriteria:
    """The search's criteria from its query parameters, checked as FlightSearchInput would check
    them (its fields' length and null-character rules, then each parameter's parser).

    Raises ValidationFailed (400) naming each bad parameter.
    """
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    index: PlaceIndex | None = None
    for name, (max_length, parse) in SEARCH_PARAMETERS.items():
        raw = query.get(name)
        if raw is None:
            continue
        if parse is place_parse and raw.strip():  # one read of the index for both places
            index = index or place_index()
            parse = partial(place_parse, index=index)
        text = raw.strip()
        if "\x00" in text:
            errors[name] = ["Null characters are not allowed."]
        elif len(text) > max_length:
            errors[name] = [f"Ensure this field has no more than {max_length} characters."]
        else:
            try:
                values[name] = parse(text)
            except serializers.ValidationError as error:
                errors[name] = [str(message) for message in error.detail]
    errors = errors or route_errors(values)
    if errors:
        raise ValidationFailed("Invalid input.", errors=errors)
    trips, price = values.get("trips"), values.get("price")
    origin, destination = values.get("origin"), values.get("destination")
    return FlightSearchCriteria(
        departure_codes=(trips[0],) if trips else origin.codes if origin else (),
        arrival_codes=(trips[1],) if trips else destination.codes if destination else (),
        price_min=price[0] if price else None,
        price_max=price[1] if price else None,
        travellers=values.get("travellers"),
        trip_date=values.get("tripDate"),
        sort=values.get("sort") or (),
    )


READ_ONLY_FLIGHT_FIELDS = ("total_seats", "available_seats", "version")


class FlightInput(serializers.Serializer):
    flight_number = StringField(max_length=8)
    airplane_id = serializers.IntegerField(min_value=1)
    departure_airport = StringField(max_length=3, help_text="IATA code")
    arrival_airport = StringField(max_length=3, help_text="IATA code")
    departure_time = serializers.DateTimeField()
    arrival_time = serializers.DateTimeField()
    currency = StringField(max_length=3, required=False)
    base_fare = serializers.DecimalField(max_digits=10, decimal_places=2, help_text="The economy fare.")
    premium_economy_fare = serializers.DecimalField(
        max_digits=10, decimal_places=2, required=False, allow_null=True
    )
    business_fare = serializers.DecimalField(max_digits=10, decimal_places=2, required=False, allow_null=True)
    first_fare = serializers.DecimalField(max_digits=10, decimal_places=2, required=False, allow_null=True)
    gate = StringField(max_length=8, required=False, allow_blank=True)
    status = FlightStatusField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        read_only = [field for field in READ_ONLY_FLIGHT_FIELDS if field in self.initial_data]
        if read_only:
            raise serializers.ValidationError(
                {field: ["Read-only: set from the airplane and by bookings."] for field in read_only}
            )
        return attrs


class FlightListCreateApi(APIView):
    """Search scheduled future flights (cached), or schedule a new flight (staff)."""

    permission_classes = [ModelPermissionsOrReadOnly]
    permission_model = Flight

    @extend_schema(
        operation_id="flights_search",
        parameters=[FlightSearchInput, *PAGE_PARAMETERS],
        responses={200: paginated(FlightSearchResultOutput), **problems(RateLimited)},
    )
    def get(self, request: Request) -> HttpResponse:
        """Answered from the cache as stored bytes when it can be: the version, the entry and the
        per-IP rate limit in one round trip (apps/flights/search_cache.py: cached_json); a miss
        builds its rows from one SQL statement, without a model object per flight. Places (origin,
        destination) are resolved from the cached place index (apps/flights/places.py); an unknown
        or ambiguous place, or an unknown code in trips, is a 400 naming the parameter and the text."""
        criteria = search_criteria(request.query_params)
        paginator = PageNumberPagination()
        page_size = paginator.get_page_size(request)
        number = paginator.get_page_number(request)
        # Parameters search does not know still shape the cached body (its next/previous links carry
        # them), so they are part of the key.
        known = {*SEARCH_PARAMETERS, "page", "page_size"}
        token = search_token(
            scope=request.build_absolute_uri(request.path),
            criteria_token=criteria.cache_token(),
            page=str(number),
            page_size=page_size,
            extras=[(k, v) for k, values in request.query_params.lists() if k not in known for v in values],
        )
        limit = rate_limit_for(
            request, group="search", key=ip_key, rate_setting="RATELIMIT_SEARCH", fail_open=True
        )

        def search() -> bytes:
            if "trips" in request.query_params:  # codes are taken as given; an unknown one is refused
                trips_check(criteria)
            found = flight_search_page(criteria=criteria, page=number, page_size=page_size)
            catalogue = fare_family_catalogue_cached()  # read once per catalogue version
            items = [search_row_body(row, catalogue, criteria.travellers or 1) for row in found.rows]
            return json_bytes(
                paginator.counted_page_response(request, items, number=number, count=found.count).data
            )

        answer = cached_json(
            token, lambda: catalogue_read(search), ttl=settings.SEARCH_CACHE_TTL_SECONDS, limit=limit
        )
        return json_bytes_response(
            request,
            answer.body,
            etag=answer.etag,
            max_age=settings.SEARCH_CACHE_TTL_SECONDS,
            headers={"X-Cache": "hit" if answer.hit else "miss"},
        )

    @extend_schema(request=FlightInput, responses={201: FlightOutput, **problems(PermissionDenied)})
    def post(self, request: Request) -> Response:
        serializer = FlightInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        flight = flight_create(**serializer.validated_data)
        return Response(FlightOutput(flight_get(flight_id=flight.pk)).data, status=status.HTTP_201_CREATED)


class FaresByDayInput(RouteInput):
    """A route and a day (docs/API.md, "Flexible dates"): the search's parameters of the same names."""

    tripDate = serializers.CharField(  # noqa: N815 - the public parameter name
        max_length=20,
        help_text="The chosen departure date YYYY-MM-DD, in the departure airport's local time.",
    )
    travellers = serializers.CharField(
        required=False, allow_blank=True, max_length=5, help_text=f"Seats needed, 1 to {MAX_PARTY_SIZE} (1)."
    )


class DayFareOutput(serializers.Serializer):
    date = serializers.DateField(help_text="A departure date, in the departure airport's local time.")
    lowest_fare = serializers.DecimalField(
        max_digits=10, decimal_places=2, allow_null=True, help_text="Null: no flight with the seats that day."
    )
    currency = serializers.CharField(allow_null=True)
    flights = serializers.IntegerField(help_text="Flights with the seats that day.")
    chosen = serializers.BooleanField(help_text="The day asked for.")


class FaresByDayOutput(serializers.Serializer):
    departure_airports = serializers.ListField(child=serializers.CharField())
    arrival_airports = serializers.ListField(child=serializers.CharField())
    travellers = serializers.IntegerField()
    days = DayFareOutput(many=True)


def fares_by_day_criteria(query: Mapping[str, str]) -> FlightSearchCriteria:
    """The route, day and travellers of a fare calendar, read as the search reads them; both ends of
    the route and the day are required. Raises ValidationFailed naming each bad parameter."""
    criteria = search_criteria({name: query[name] for name in FaresByDayInput().fields if name in query})
    errors: dict[str, list[str]] = {}
    if not (criteria.departure_codes and criteria.arrival_codes):
        where = (
            "trips"
            if "trips" in query or not ("origin" in query or "destination" in query)
            else ("origin" if not criteria.departure_codes else "destination")
        )
        errors[where] = ["A route is required: trips, or origin and destination."]
    if criteria.trip_date is None:
        errors["tripDate"] = ["This field is required."]
    if errors:
        raise ValidationFailed("Invalid input.", errors=errors)
    return FlightSearchCriteria(
        departure_codes=criteria.departure_codes,
        arrival_codes=criteria.arrival_codes,
        travellers=criteria.travellers or 1,
        trip_date=criteria.trip_date,
    )


def fares_by_day_body(criteria: FlightSearchCriteria, day: date, travellers: int) -> dict[str, Any]:
    days = flight_fares_by_day(
        departure_codes=criteria.departure_codes,
        arrival_codes=criteria.arrival_codes,
        day=day,
        travellers=travellers,
    )
    return FaresByDayOutput(
        {
            "departure_airports": list(criteria.departure_codes),
            "arrival_airports": list(criteria.arrival_codes),
            "travellers": travellers,
            "days": [
                {
                    "date": each.day,
                    "lowest_fare": each.lowest_fare,
                    "currency": each.currency,
                    "flights": each.flights,
                    "chosen": each.day == day,
                }
                for each in days
            ],
        }
    ).data


class FlightFaresByDayApi(APIView):
    """The lowest fare of each day around a chosen one on a route (flexible dates)."""

    permission_classes = [ModelPermissionsOrReadOnly]
    permission_model = Flight

    @extend_schema(
        operation_id="flights_fares_by_day",
        parameters=[FaresByDayInput],
        responses={200: FaresByDayOutput, **problems(RateLimited)},
    )
    def get(self, request: Request) -> HttpResponse:
        """The lowest available base fare per local day for the chosen day ± 3 days, over the flights
        the search would show (scheduled, not departed, with the seats): one SQL statement per route,
        cached like the search (the catalogue version, SEARCH_CACHE_TTL_SECONDS)."""
        criteria = fares_by_day_criteria(request.query_params)
        day = criteria.trip_date
        assert day is not None  # required above
        limit = rate_limit_for(
            request, group="search", key=ip_key, rate_setting="RATELIMIT_SEARCH", fail_open=True
        )

        def fares() -> bytes:
            if request.query_params.get("trips"):
                trips_check(criteria)
            return json_bytes(fares_by_day_body(criteria, day, criteria.travellers or 1))

        answer = cached_json(
            f"fares-by-day|{criteria.cache_token()}",
            lambda: catalogue_read(fares),
            ttl=settings.SEARCH_CACHE_TTL_SECONDS,
            limit=limit,
        )
        return json_bytes_response(
            request,
            answer.body,
            etag=answer.etag,
            max_age=settings.SEARCH_CACHE_TTL_SECONDS,
            headers={"X-Cache": "hit" if answer.hit else "miss"},
        )


class FlightDetailApi(APIView):
    permission_classes = [ModelPermissionsOrReadOnly]
    permission_model = Flight

    @extend_schema(responses={200: FlightOutput, **problems(FlightNotFound)})
    def get(self, request: Request, flight_id: int) -> HttpResponse:
        """From the cache as stored bytes under the catalogue version, for FLIGHT_CACHE_TTL_SECONDS
        at most (the availability it shows may lag that long; booking never trusts it)."""
        answer = cached_json(
            f"flight:{flight_id}",
            lambda: catalogue_read(lambda: json_bytes(flight_body(flight_get(flight_id=flight_id)))),
            ttl=settings.FLIGHT_CACHE_TTL_SECONDS,
        )
        return json_bytes_response(
            request, answer.body, etag=answer.etag, max_age=settings.FLIGHT_CACHE_TTL_SECONDS
        )

    @extend_schema(
        request=FlightInput(partial=True),
        responses={200: FlightOutput, **problems(PermissionDenied, FlightNotFound, FlightHasBookings)},
    )
    def patch(self, request: Request, flight_id: int) -> Response:
        serializer = FlightInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        flight_update(flight_id=flight_id, data=serializer.validated_data)
        return Response(FlightOutput(flight_get(flight_id=flight_id)).data)

    @extend_schema(responses={204: None, **problems(PermissionDenied, FlightNotFound, FlightHasBookings)})
    def delete(self, request: Request, flight_id: int) -> Response:
        flight_delete(flight_id=flight_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FlightSeatMapApi(APIView):
    """Every seat of the flight with its cabin, fare and status (available / taken)."""

    permission_classes = [ModelPermissionsOrReadOnly]
    permission_model = Flight

    @extend_schema(responses={200: SeatMapOutput, **problems(FlightNotFound)})
    def get(self, request: Request, flight_id: int) -> HttpResponse:
        """From the cache, as the flight's detail is (FLIGHT_CACHE_TTL_SECONDS at most behind)."""
        answer = cached_json(
            f"seats:{flight_id}",
            lambda: catalogue_read(lambda: json_bytes(seat_map_body(flight_seat_map(flight_id=flight_id)))),
            ttl=settings.FLIGHT_CACHE_TTL_SECONDS,
        )
        return json_bytes_response(
            request, answer.body, etag=answer.etag, max_age=settings.FLIGHT_CACHE_TTL_SECONDS
        )
