"""The hold request's shape, checked without a serializer on the hot path.

`HoldInput` describes the body (the OpenAPI document is generated from it); `hold_input` checks a
parsed body against the same rules and answers the same 400 (the same fields, the same messages), at
a fraction of the cost of constructing the serializer on every request. The service checks the
business rules (names not blank, seats on the airplane, …). apps/bookings/tests/test_inputs.py holds
the two to each other.
"""

import re
from typing import Any

from django.utils.dateparse import parse_date
from rest_framework import serializers

from apps.bookings.models import Passenger
from apps.core.api.exception_handler import flatten_errors
from apps.core.api.fields import StringField
from apps.core.exceptions import ValidationFailed
from apps.flights.models import MAX_PARTY_SIZE, MAX_SEGMENTS

NAME_MAX_LENGTH = 100
SEAT_MAX_LENGTH = 4
FARE_FAMILY_MAX_LENGTH = 20  # FareFamily.code
FARE_FAMILY_HELP = (
    "A fare family sold on this flight (its code, e.g. ECO_FLEX: the search shows each flight's); every seat "
    "is then in that family's cabin at its price. Leave out for each cabin's cheapest family."
)
ID_MAX = 2**63 - 1  # a BIGINT primary key


class HoldInput(serializers.Serializer):
    class PassengerInput(serializers.Serializer):
        first_name = StringField(max_length=NAME_MAX_LENGTH)
        last_name = StringField(max_length=NAME_MAX_LENGTH)
        type = serializers.ChoiceField(
            choices=Passenger.Type.choices,
            default=Passenger.Type.ADULT,
            help_text="adult (12 or older), child (2–11) or infant (under 2, on an adult's lap, no seat), "
            "by age on the first flight's local departure date.",
        )
        date_of_birth = serializers.DateField(
            required=False, allow_null=True, help_text="YYYY-MM-DD; required for a child or an infant."
        )
        travelling_with = serializers.IntegerField(
            min_value=1,
            max_value=MAX_PARTY_SIZE,
            required=False,
            allow_null=True,
            help_text="An infant's adult: that adult's 1-based place in `passengers`. One infant per adult.",
        )

    flight_id = serializers.IntegerField(min_value=1, max_value=ID_MAX)
    passengers = PassengerInput(many=True, min_length=1, max_length=MAX_PARTY_SIZE)
    seats = serializers.ListField(
        child=StringField(max_length=SEAT_MAX_LENGTH),
        required=False,
        max_length=MAX_PARTY_SIZE,
        help_text="One seat code per seated passenger (adults and children, in passenger order; infants "
        "have none), e.g. 12A; leave out to have seats assigned.",
    )
    fare_family = StringField(max_length=FARE_FAMILY_MAX_LENGTH, required=False, help_text=FARE_FAMILY_HELP)


class JourneyHoldInput(serializers.Serializer):
    """A hold of several flights in one booking (a return or multi-city trip), in travel order."""

    class SegmentInput(serializers.Serializer):
        flight_id = serializers.IntegerField(min_value=1, max_value=ID_MAX)
        seats = serializers.ListField(
            child=StringField(max_length=SEAT_MAX_LENGTH),
            required=False,
            max_length=MAX_PARTY_SIZE,
            help_text="One seat code per seated passenger (not infants) on this flight; leave out to have "
            "seats assigned.",
        )
        fare_family = StringField(
            max_length=FARE_FAMILY_MAX_LENGTH, required=False, help_text=FARE_FAMILY_HELP
        )

    segments = SegmentInput(
        many=True,
        min_length=1,
        max_length=MAX_SEGMENTS,
        help_text=(
            "The journey's flights in travel order: each leaves at least JOURNEY_MIN_CONNECTION_MINUTES "
            "(45 by default) after the previous lands. All are held, or none."
        ),
    )
    passengers = HoldInput.PassengerInput(many=True, min_length=1, max_length=MAX_PARTY_SIZE)


REQUIRED = "This field is required."
INTEGER_TEXT_MAX = 1000
_ZERO_FRACTION = re.compile(r"\.0*\s*$")
NULL = "This field may not be null."
DATE_FORMAT = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
_PASSENGER_TYPES = {str(value): value for value in Passenger.Type.values}


def hold_input(data: Any) -> dict[str, Any]:
    """`data` checked against HoldInput: {flight_id, passengers: [{first_name, last_name, type,
    date_of_birth?, travelling_with?}], seats?, fare_family?}.

    Raises ValidationFailed (400) with `errors` keyed as the API flattens a serializer's errors.
    """
    if not isinstance(data, dict):
        raise _invalid({"non_field_errors": [f"Invalid data. Expected a dictionary, but got {_kind(data)}."]})
    if "segments" in data:
        return _journey_hold_input(data)
    errors: dict[str, list[str]] = {}
    flight_id = _integer(data, "flight_id", "flight_id", errors, maximum=ID_MAX)
    passengers = _list(data, "passengers", errors, required=True, min_length=1)
    cleaned_passengers = []
    for index, passenger in enumerate(passengers or []):
        prefix = f"passengers.{index}"
        if not isinstance(passenger, dict):
            errors[f"{prefix}.non_field_errors"] = [
                f"Invalid data. Expected a dictionary, but got {_kind(passenger)}."
            ]
            continue
        names = {
            field: _text(passenger, field, f"{prefix}.{field}", errors, max_length=NAME_MAX_LENGTH)
            for field in ("first_name", "last_name")
        }
        names["type"] = _choice(passenger, "type", f"{prefix}.type", errors)
        if "date_of_birth" in passenger:
            names["date_of_birth"] = _date(passenger["date_of_birth"], f"{prefix}.date_of_birth", errors)
        if "travelling_with" in passenger:
            names["travelling_with"] = (
                None
                if passenger["travelling_with"] is None
                else _integer(
                    passenger, "travelling_with", f"{prefix}.travelling_with", errors, maximum=MAX_PARTY_SIZE
                )
            )
        cleaned_passengers.append(names)
    seats = _list(data, "seats", errors, required=False, min_length=0)
    cleaned_seats = None
    if seats is not None:
        cleaned_seats = [
            _text({"seat": seat}, "seat", f"seats.{index}", errors, max_length=SEAT_MAX_LENGTH)
            for index, seat in enumerate(seats)
        ]
    fare_family = None
    if "fare_family" in data:
        fare_family = _text(data, "fare_family", "fare_family", errors, max_length=FARE_FAMILY_MAX_LENGTH)
    if errors:
        raise _invalid(errors)
    cleaned: dict[str, Any] = {"flight_id": flight_id, "passengers": cleaned_passengers}
    if cleaned_seats is not None:
        cleaned["seats"] = cleaned_seats
    if fare_family is not None:
        cleaned["fare_family"] = fare_family
    return cleaned


def _journey_hold_input(data: dict) -> dict[str, Any]:
    """A journey's hold checked by its serializer (not the one-way hot path): {segments, passengers}."""
    if "flight_id" in data or "seats" in data or "fare_family" in data:
        raise _invalid({"segments": ["Give either flight_id (and seats) or segments, not both."]})
    serializer = JourneyHoldInput(data=data)
    if not serializer.is_valid():
        raise _invalid(flatten_errors(serializer.errors))
    return {
        "segments": [dict(segment) for segment in serializer.validated_data["segments"]],
        "passengers": [dict(passenger) for passenger in serializer.validated_data["passengers"]],
    }


def _invalid(errors: dict[str, list[str]]) -> ValidationFailed:
    return ValidationFailed("Invalid input.", errors=errors)


def _kind(value: Any) -> str:
    return type(value).__name__


def _integer(data: dict, field: str, key: str, errors: dict[str, list[str]], *, maximum: int) -> int | None:
    if field not in data:
        errors[key] = [REQUIRED]
        return None
    value = data[field]
    if value is None:
        errors[key] = [NULL]
        return None
    # As DRF's IntegerField: whole numbers, also written as text ("12") or with a zero fraction.
    if isinstance(value, str) and len(value) > INTEGER_TEXT_MAX:
        errors[key] = ["String value too large."]
        return None
    try:
        number = int(_ZERO_FRACTION.sub("", str(value)))
    except ValueError:
        errors[key] = ["A valid integer is required."]
        return None
    if number < 1:
        errors[key] = ["Ensure this value is greater than or equal to 1."]
    elif number > maximum:
        errors[key] = [f"Ensure this value is less than or equal to {maximum}."]
    return number


def _choice(data: dict, field: str, key: str, errors: dict[str, list[str]]) -> str:
    """As DRF's ChoiceField of the passenger types, "adult" when left out."""
    if field not in data:
        return Passenger.Type.ADULT
    value = data[field]
    if value is None:
        errors[key] = [NULL]
        return ""
    choice = _PASSENGER_TYPES.get(str(value))
    if choice is None:
        errors[key] = [f'"{value}" is not a valid choice.']
        return ""
    return choice


def _date(value: Any, key: str, errors: dict[str, list[str]]) -> Any:
    """As DRF's DateField (ISO 8601, null allowed): a JSON body holds no date objects, only text."""
    if value is None:
        return None
    try:
        parsed = parse_date(value)
    except (ValueError, TypeError):
        parsed = None
    if parsed is None:
        errors[key] = [DATE_FORMAT]
    return parsed


def _list(
    data: dict, field: str, errors: dict[str, list[str]], *, required: bool, min_length: int
) -> list | None:
    if field not in data:
        if required:
            errors[field] = [REQUIRED]
        return None
    value = data[field]
    if value is None:
        errors[field] = [NULL]
        return None
    if not isinstance(value, list):
        key = f"{field}.non_field_errors" if field == "passengers" else field
        errors[key] = [f'Expected a list of items but got type "{_kind(value)}".']
        return None
    key = f"{field}.non_field_errors" if field == "passengers" else field
    if len(value) < min_length:
        errors[key] = [f"Ensure this field has at least {min_length} elements."]
    elif len(value) > MAX_PARTY_SIZE:
        errors[key] = [f"Ensure this field has no more than {MAX_PARTY_SIZE} elements."]
    if key in errors:
        return None
    return value


def _text(data: dict, field: str, key: str, errors: dict[str, list[str]], *, max_length: int) -> str:
    if field not in data:
        errors[key] = [REQUIRED]
        return ""
    value = data[field]
    if value is None:
        errors[key] = [NULL]
        return ""
    if not isinstance(value, str):  # as StringField: text is a JSON string, never a number
        errors[key] = ["Not a valid string."]
        return ""
    text = value.strip()
    if not text:
        errors[key] = ["This field may not be blank."]
    elif len(text) > max_length:
        errors[key] = [f"Ensure this field has no more than {max_length} characters."]
    return text
